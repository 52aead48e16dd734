"""Rössler attractor (variables / 100, z - 10), chaotic; metric: attractor statistics -- in nengo_gui.

    npl-nengo gui rossler [--route neuron|nef] [--neurons N]
    .venv/bin/python -m npl_nengo.gui examples/gui_rossler.py    # $NPL_NENGO_ROUTE, $NPL_NENGO_NEURONS
"""

from npl_nengo.gui import library_model

model = library_model("rossler")
