"""a 2-neuron tanh guest RNN virtualized in a host (Taylor order 3); metric: host vs direct guest simulation -- in nengo_gui.

    npl-nengo gui guest_rnn [--route neuron|nef] [--neurons rate|regular|poisson|lif] [--n-neurons N]
    .venv/bin/python -m npl_nengo.gui examples/gui_guest_rnn.py    # $NPL_NENGO_ROUTE, $NPL_NENGO_NEURONS, $NPL_NENGO_N_NEURONS
"""

from npl_nengo.gui import library_model

model = library_model("guest_rnn")
