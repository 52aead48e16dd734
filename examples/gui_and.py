"""AND gate: do/dt = 10 (c o + a o^3 + L(s1, s2)), levels ±0.1 -- in nengo_gui.

    npl-nengo gui and [--route neuron|nef] [--neurons rate|regular|poisson|lif] [--n-neurons N]
    .venv/bin/python -m npl_nengo.gui examples/gui_and.py    # $NPL_NENGO_ROUTE, $NPL_NENGO_NEURONS, $NPL_NENGO_N_NEURONS
"""

from npl_nengo.gui import library_model

model = library_model("and")
