"""Compile a NAND gate both ways and run it with spiking neurons on the reference backend.

    .venv/bin/python examples/nand_spiking.py
"""

import npl_nengo as npl
from npl_nengo import networks

entry = networks.get("nand")
for method in ("taylor", "sampled"):
    rnn = npl.compile(entry.build(), n_neurons=200, method=method, seed=0)
    score = entry.metric(rnn, neurons="regular", max_rate=1000.0, tol=0.03, hold=0.6)
    print(f"{method:8s} ||W|| = {rnn.weight_norm:9.3g}  regular 1000 Hz: {score.summary()}")
