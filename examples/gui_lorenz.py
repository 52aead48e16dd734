"""Lorenz attractor (variables / 200, z - 27), chaotic; metric: attractor statistics -- in nengo_gui.

    npl-nengo gui lorenz [--route neuron|nef] [--neurons rate|regular|poisson|lif] [--n-neurons N]
    .venv/bin/python -m npl_nengo.gui examples/gui_lorenz.py    # $NPL_NENGO_ROUTE, $NPL_NENGO_NEURONS, $NPL_NENGO_N_NEURONS

The plots show x, y and z over their programmed ranges and the x-z phase plane (the
butterfly) of the last 3 s.
"""

from npl_nengo import networks
from npl_nengo.gui import layout_hints, library_model, phase_plane

model = library_model("lorenz")
hints = layout_hints(model)
ranges = networks.get("lorenz").build().ranges  # the program's value ranges
hints.ranges.update({node: ranges[name] for name, node in model.outputs.items()})
phase_plane(model, "x", "z")
hints.columns = 2
hints.shown_time = 3.0  # seconds the plots show (nengo_gui keeps 4): enough for a few loops
