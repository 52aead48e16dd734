"""full adder from five gates; inputs a, b, cin -- in nengo_gui.

    npl-nengo gui full_adder [--route neuron|nef] [--neurons rate|regular|poisson|lif] [--n-neurons N]
    .venv/bin/python -m npl_nengo.gui examples/gui_full_adder.py    # $NPL_NENGO_ROUTE, $NPL_NENGO_NEURONS, $NPL_NENGO_N_NEURONS
"""

from npl_nengo.gui import library_model

model = library_model("full_adder")
