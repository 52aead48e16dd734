"""dRAM: Lorenz at address +0.1, Rössler at -0.1 in one program; metric: per-address statistics and switching time -- in nengo_gui.

    npl-nengo gui dram [--route neuron|nef] [--neurons N]
    .venv/bin/python -m npl_nengo.gui examples/gui_dram.py    # $NPL_NENGO_ROUTE, $NPL_NENGO_NEURONS
"""

from npl_nengo.gui import library_model

model = library_model("dram")
