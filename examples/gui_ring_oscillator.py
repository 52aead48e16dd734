"""ring of three NAND inverters (multivibrator), period ~0.68 s -- in nengo_gui.

    npl-nengo gui ring_oscillator [--route neuron|nef] [--neurons rate|regular|poisson|lif] [--n-neurons N]
    .venv/bin/python -m npl_nengo.gui examples/gui_ring_oscillator.py    # $NPL_NENGO_ROUTE, $NPL_NENGO_NEURONS, $NPL_NENGO_N_NEURONS
"""

from npl_nengo.gui import library_model

model = library_model("ring_oscillator")
