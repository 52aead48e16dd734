"""dRAM: Lorenz at address +0.1, Rössler at -0.1 in one program; metric: per-address statistics and switching time -- in nengo_gui.

    npl-nengo gui dram [--route neuron|nef] [--neurons rate|regular|poisson|lif] [--n-neurons N]
    .venv/bin/python -m npl_nengo.gui examples/gui_dram.py    # $NPL_NENGO_ROUTE, $NPL_NENGO_NEURONS, $NPL_NENGO_N_NEURONS

The slider ``address`` picks the attractor (+0.1 Lorenz, -0.1 Rössler); the plots show x,
y and z and the x-z and x-y phase planes of the last 3 s.
"""

from npl_nengo import networks
from npl_nengo.gui import layout_hints, library_model, phase_plane

model = library_model("dram")
hints = layout_hints(model)
ranges = networks.get("dram").build().ranges  # the program's value ranges
hints.ranges.update({node: ranges[name] for name, node in model.outputs.items()})
phase_plane(model, "x", "z")
phase_plane(model, "x", "y")
hints.columns = 2
hints.shown_time = 3.0  # seconds the plots show (nengo_gui keeps 4): enough for a few loops
