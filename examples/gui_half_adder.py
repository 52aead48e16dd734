"""half adder: sum = XOR(a, b), carry = AND(a, b) -- in nengo_gui.

    npl-nengo gui half_adder [--route neuron|nef] [--neurons N]
    .venv/bin/python -m npl_nengo.gui examples/gui_half_adder.py    # $NPL_NENGO_ROUTE, $NPL_NENGO_NEURONS
"""

from npl_nengo.gui import library_model

model = library_model("half_adder")
