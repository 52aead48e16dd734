"""SR latch from two cross-coupled NOR gates; inputs s (set), r (reset) -- in nengo_gui.

    npl-nengo gui sr_latch [--route neuron|nef] [--neurons rate|regular|poisson|lif] [--n-neurons N]
    .venv/bin/python -m npl_nengo.gui examples/gui_sr_latch.py    # $NPL_NENGO_ROUTE, $NPL_NENGO_NEURONS, $NPL_NENGO_N_NEURONS
"""

from npl_nengo.gui import library_model

model = library_model("sr_latch")
