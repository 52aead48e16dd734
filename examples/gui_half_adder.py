"""half adder: sum = XOR(a, b), carry = AND(a, b) -- in nengo_gui.

    npl-nengo gui half_adder [--route neuron|nef] [--neurons rate|regular|poisson|lif] [--n-neurons N]
    .venv/bin/python -m npl_nengo.gui examples/gui_half_adder.py    # $NPL_NENGO_ROUTE, $NPL_NENGO_NEURONS, $NPL_NENGO_N_NEURONS
"""

from npl_nengo.gui import library_model

model = library_model("half_adder")
