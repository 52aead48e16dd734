"""2-D path integrator: dx/dt = vx, dy/dt = vy -- in nengo_gui.

    npl-nengo gui path_integrator [--route neuron|nef] [--neurons rate|regular|poisson|lif] [--n-neurons N]
    .venv/bin/python -m npl_nengo.gui examples/gui_path_integrator.py    # $NPL_NENGO_ROUTE, $NPL_NENGO_NEURONS, $NPL_NENGO_N_NEURONS

The sliders ``vx`` and ``vy`` set the velocity (±0.2 units/s, the program's input
range); the plots ``x vs exact`` and ``y vs exact`` show the network's position
(blue) and the exact integral of the sliders (green), and the XY plots the path
the network walks and the exact one.  Positions are programmed in ±1: hold a
velocity for 5 s and the exact path leaves the network's range.

The neuron route uses the entry's recommended compile (``networks.get("path_integrator")
.compile``: sampled, gamma 10, 500 units): the paper's min-norm ``taylor`` compile
(gamma 100) integrates about 5 % slow under nengo's time step.
"""

import nengo

from npl_nengo import networks
from npl_nengo.gui import layout_hints, library_model, plot_against
from npl_nengo.networks import npu
from npl_nengo.program import flatten

model = library_model("path_integrator", compile=networks.get("path_integrator").compile)
hints = layout_hints(model)
hints.ranges.update({model.sources[name]: r for name, r in flatten(npu.path()).input_ranges.items()})
with model:
    # the exact integral: the synapse 1/s (nengo's zero-order hold: x[k+1] = x[k] + dt v[k])
    exact = nengo.Node(size_in=2, label="exact integral")
    nengo.Connection(model.inputs["vx"], exact[0], synapse=nengo.LinearFilter([1.0], [1.0, 0.0]))
    nengo.Connection(model.inputs["vy"], exact[1], synapse=nengo.LinearFilter([1.0], [1.0, 0.0]))
    path = nengo.Node(size_in=2, label="path (network)")
    nengo.Connection(model.outputs["x"], path[0], synapse=None)
    nengo.Connection(model.outputs["y"], path[1], synapse=None)
    exact_path = nengo.Node(size_in=2, label="path (exact)")
    nengo.Connection(exact, exact_path, synapse=None)
plot_against(model, {"x": exact[0], "y": exact[1]}, ranges={"x": (-1.0, 1.0), "y": (-1.0, 1.0)})
hints.xy += [path, exact_path]
hints.ranges.update({path: (-1.0, 1.0), exact_path: (-1.0, 1.0)})
hints.columns = 2
hints.shown_time = 3.0  # seconds the plots show (nengo_gui keeps 4)
