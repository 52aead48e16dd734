"""Root NPU: dx/dt = -10 (x^3 + c1 x + c0) settles on the real root of the cubic -- in nengo_gui.

    npl-nengo gui npu_root [--route neuron|nef] [--neurons rate|regular|poisson|lif] [--n-neurons N]
    .venv/bin/python -m npl_nengo.gui examples/gui_npu_root.py    # $NPL_NENGO_ROUTE, $NPL_NENGO_NEURONS, $NPL_NENGO_N_NEURONS

The sliders ``c1`` (0.2 to 1) and ``c0`` (-0.3 to 0.3) span the program's input
ranges; the plot ``x vs exact`` shows the network's output (blue) and numpy's real
root of x^3 + c1 x + c0 (green).  The neuron route is the paper's min-norm
``taylor`` compile: in rate units it settles on the root within 0.01.
"""

from npl_nengo.gui import exact_node, layout_hints, library_model, plot_against
from npl_nengo.networks import npu
from npl_nengo.program import flatten

model = library_model("npu_root")
layout_hints(model).ranges.update({model.sources[name]: r for name, r in flatten(npu.root()).input_ranges.items()})
plot_against(model, exact_node(model, npu.root_solution), ranges={"x": (-0.6, 0.6)})
layout_hints(model).shown_time = 2.0  # seconds the plots show: settling takes ~0.5 s
