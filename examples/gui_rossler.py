"""Rössler attractor (variables / 100, z - 10), chaotic; metric: attractor statistics -- in nengo_gui.

    npl-nengo gui rossler [--route neuron|nef] [--neurons rate|regular|poisson|lif] [--n-neurons N]
    .venv/bin/python -m npl_nengo.gui examples/gui_rossler.py    # $NPL_NENGO_ROUTE, $NPL_NENGO_NEURONS, $NPL_NENGO_N_NEURONS

The plots show x, y and z over their programmed ranges and the x-y phase plane (the
spiral) of the last 3 s.
"""

from npl_nengo import networks
from npl_nengo.gui import layout_hints, library_model, phase_plane

model = library_model("rossler")
hints = layout_hints(model)
ranges = networks.get("rossler").build().ranges  # the program's value ranges
hints.ranges.update({node: ranges[name] for name, node in model.outputs.items()})
phase_plane(model, "x", "y")
hints.columns = 2
hints.shown_time = 3.0  # seconds the plots show (nengo_gui keeps 4): enough for a few loops
