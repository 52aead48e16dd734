"""Matrix NPU: sum, difference, element-wise and matrix product of two 2x2 matrices -- in nengo_gui.

    npl-nengo gui npu_matrix [--route neuron|nef] [--neurons rate|regular|poisson|lif] [--n-neurons N]
    .venv/bin/python -m npl_nengo.gui examples/gui_npu_matrix.py    # $NPL_NENGO_ROUTE, $NPL_NENGO_NEURONS, $NPL_NENGO_N_NEURONS

A slider for every entry of a and b (±1, the program's input range).  The 16
outputs are plotted by operation, one row each (a + b, a - b, a * b element-wise,
a @ b): on the left the network's four entries, on the right numpy's, with the
same colour for the same entry (legend: 11, 12, 21, 22).  The neuron route is the
paper's min-norm ``taylor`` compile: in rate units every entry is within 0.01 of
numpy's.
"""

import nengo

from npl_nengo import networks
from npl_nengo.gui import exact_node, layout_hints, library_model
from npl_nengo.networks import npu
from npl_nengo.program import flatten

ranges = flatten(npu.matrix()).input_ranges
plain = networks.get("npu_matrix").inputs
# a slider for every input: the ones the plain run leaves out start at 0
model = library_model("npu_matrix", inputs={name: 0.0 for name in ranges if name not in plain})
hints = layout_hints(model)
hints.ranges.update({model.sources[name]: r for name, r in ranges.items()})
# the sliders laid out as the matrices: a on the left, b on the right
hints.sliders = [[model.sources[f"{m}{i}{j}"] for m in "ab" for j in (1, 2)] for i in (1, 2)]
exact = exact_node(model, npu.matrix_exact, label="numpy")
ENTRIES = ["11", "12", "21", "22"]
plots = {}
with model, nengo.Network(label="plots"):  # one box in the graph, not 8 nodes
    for prefix, title in (("sum", "a + b"), ("diff", "a - b"), ("prod", "a * b"), ("matmul", "a @ b")):
        network = nengo.Node(size_in=4, label=f"{title} (network)")
        numpy = nengo.Node(size_in=4, label=f"{title} (numpy)")
        for k, entry in enumerate(ENTRIES):
            nengo.Connection(model.outputs[prefix + entry], network[k], synapse=None)
            nengo.Connection(exact[prefix + entry], numpy[k], synapse=None)
        plots[f"{prefix} (network)"], plots[f"{prefix} (numpy)"] = network, numpy
        hints.ranges[network] = hints.ranges[numpy] = (-1.0, 1.0) if prefix == "prod" else (-2.0, 2.0)
        hints.legends[numpy] = ENTRIES
# value plots (npl_nengo.gui.layout draws one per model.outputs entry): two columns, a row per operation
model.outputs = plots
hints.columns = 2
layout_hints(model).shown_time = 2.0  # seconds the plots show: settling takes ~0.5 s
