"""Least-squares NPU: 3 equations in 2 unknowns, normal equations chained to a gradient flow -- in nengo_gui.

    npl-nengo gui npu_lstsq [--route neuron|nef] [--neurons rate|regular|poisson|lif] [--n-neurons N]
    .venv/bin/python -m npl_nengo.gui examples/gui_npu_lstsq.py    # $NPL_NENGO_ROUTE, $NPL_NENGO_NEURONS, $NPL_NENGO_N_NEURONS

A slider for every entry of A (3 x 2: the diagonal a11, a22 in 0.6 to 1, the others
in ±0.2) and of b (±0.3), each spanning the program's input range; the plots
``x1 vs exact`` and ``x2 vs exact`` show the network's solution (blue) and
``numpy.linalg.lstsq(A, b)`` (green).  The neuron route is the paper's min-norm
``taylor`` compile: in rate units it settles within 0.01 of numpy's solution.
"""

from npl_nengo import networks
from npl_nengo.gui import exact_node, layout_hints, library_model, plot_against
from npl_nengo.networks import npu
from npl_nengo.program import flatten

ranges = flatten(npu.lstsq()).input_ranges
plain = networks.get("npu_lstsq").inputs
# a slider for every input: the ones the plain run leaves out start at 0
model = library_model("npu_lstsq", inputs={name: 0.0 for name in ranges if name not in plain})
hints = layout_hints(model)
hints.ranges.update({model.sources[name]: r for name, r in ranges.items()})
# the sliders laid out as the problem: row i is a_i1, a_i2, b_i
hints.sliders = [[model.sources[f"a{i}1"], model.sources[f"a{i}2"], model.sources[f"b{i}"]] for i in (1, 2, 3)]
plot_against(model, exact_node(model, npu.lstsq_solution), ranges={"x1": (-1.0, 1.0), "x2": (-1.0, 1.0)})
layout_hints(model).shown_time = 3.0  # seconds the plots show: settling takes ~0.5 s
