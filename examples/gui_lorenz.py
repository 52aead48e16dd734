"""Lorenz attractor (variables / 200, z - 27), chaotic; metric: attractor statistics -- in nengo_gui.

    npl-nengo gui lorenz [--route neuron|nef] [--neurons N]
    .venv/bin/python -m npl_nengo.gui examples/gui_lorenz.py    # $NPL_NENGO_ROUTE, $NPL_NENGO_NEURONS
"""

from npl_nengo.gui import library_model

model = library_model("lorenz")
