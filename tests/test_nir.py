"""NIR export and import (``npl_nengo.nir_export``): a LIF-compiled network as a NIR graph and back.

The network exported is the library's LIF NAND (300 units) compiled for units without a refractory
period (NIR's LIF has none): ``compile(..., activation="lif", lif={"tau_ref": 0})``.

Three checks that the graph computes what the network does:

* read back (:func:`from_nir`), it is the same network: the same weights (the two scaled by the spike
  amplitude within one rounding), and the same runs on the reference backend, nengo and Brian2;
* interpreted as NIR defines it, independently of :func:`from_nir` (``_simulate`` below: incoming edges
  summed, spikes unit impulses, LI and LIF as NIR's equations), with rate units it reproduces the
  reference backend's Euler run to rounding;
* with NIR's spiking LIF units stepped exactly (spike times inside the step, no refractory period), it
  holds NAND's levels within the tolerance tests/test_lif.py uses.
"""

import h5py
import numpy as np
import pytest

import npl_nengo as npl
from npl_nengo import networks
from npl_nengo.errors import BackendUnavailable, FormatError, SaveError, ValidationError

nir = pytest.importorskip("nir")
pytest.importorskip("nengo")

from npl_nengo.nir_export import NIR_FORMAT, from_nir, to_nir  # noqa: E402

LEVEL_TOL = 0.005  # tests/test_lif.py: 5 % of the ±0.1 logic level
PATTERNS = [(-0.1, -0.1), (-0.1, 0.1), (0.1, -0.1), (0.1, 0.1)]  # truth_table's order (False < True)


@pytest.fixture(scope="module")
def nand():
    """The library's LIF NAND (300 units), compiled for units with tau_ref = 0."""
    rnn = npl.compile(networks.get("nand").build(), method="sampled", activation="lif", lif={"tau_ref": 0.0}, seed=0)
    assert rnn.info["activation"]["tau_ref"] == 0.0 and rnn.n_neurons == 300
    return rnn


@pytest.fixture(scope="module")
def nand_file(nand, tmp_path_factory):
    path = tmp_path_factory.mktemp("nir") / "nand"
    to_nir(nand, path, dt=5e-4)
    return path.with_name("nand.nir")


# -- a NIR interpreter, written from NIR's definitions (not from npl_nengo's backends) --------------------
def _simulate(graph, u, dt, rate=None, li_init=None, lif_init=None):
    """Run ``graph`` (Input, Affine, Linear, LI, LIF, Output nodes) for inputs ``u`` (steps, m); returns
    ``{output node: (steps, n)}``.  Edges into a node are summed.  LI: ``tau dv/dt = v_leak - v + r I``,
    forward Euler with ``rate`` given, else exact for an input held over the step.  LIF: with ``rate``
    (a function of the current ``v_leak + r I``, in Hz), rate units; else ``tau dv/dt = v_leak - v + r I``
    stepped exactly, every threshold crossing inside the step a spike and a reset, and the step's spikes
    leave as unit impulses spread over the step (count / dt)."""
    nodes, edges = graph.nodes, [tuple(e) for e in graph.edges]
    into = {name: [s for s, t in edges if t == name] for name in nodes}
    states = [n for n, node in nodes.items() if isinstance(node, nir.LI)]
    ready = set(states) | {n for n, node in nodes.items() if isinstance(node, nir.Input)}
    order = []
    while len(ready) < len(nodes):  # the cycle is cut at the LI nodes (their output is their state)
        now = [n for n in nodes if n not in ready and all(s in ready for s in into[n])]
        assert now, "a cycle without an LI node"
        order += now
        ready |= set(now)
    v = {n: np.array((li_init or {}).get(n, nodes[n].v_leak), dtype=float) for n in states}
    lif_v = {n: np.zeros(node.tau.shape) if lif_init is None else np.array(lif_init, dtype=float)
             for n, node in nodes.items() if isinstance(node, nir.LIF)}
    outs = {n: [] for n, node in nodes.items() if isinstance(node, nir.Output)}
    for step in range(len(u)):
        val = {n: v[n] for n in states}
        val.update({n: np.asarray(u[step], dtype=float) for n, node in nodes.items() if isinstance(node, nir.Input)})
        for n in order:
            node, x = nodes[n], sum(val[s] for s in into[n])
            if isinstance(node, nir.Affine):
                val[n] = node.weight @ x + node.bias
            elif isinstance(node, nir.Linear):
                val[n] = node.weight @ x
            elif isinstance(node, nir.Output):
                val[n] = x
                outs[n].append(x)
            elif isinstance(node, nir.LIF):
                J = node.v_leak + node.r * x
                if rate is not None:
                    val[n] = rate(J)
                    continue
                tau, th, vr = node.tau, node.v_threshold, node.v_reset
                end = J + (lif_v[n] - J) * np.exp(-dt / tau)
                count = np.zeros_like(end)
                f = end > th
                if np.any(f):
                    t1 = tau[f] * np.log((J[f] - lif_v[n][f]) / (J[f] - th[f]))  # the first crossing
                    period = tau[f] * np.log((J[f] - vr[f]) / (J[f] - th[f]))  # from reset to threshold
                    count[f] = 1 + np.floor((dt - t1) / period)
                    left = dt - t1 - (count[f] - 1) * period
                    end[f] = J[f] + (vr[f] - J[f]) * np.exp(-left / tau[f])
                lif_v[n] = end
                val[n] = count / dt
            else:
                raise TypeError(f"node {n!r}: {type(node).__name__}")
        for n in states:
            node = nodes[n]
            target = node.v_leak + node.r * sum(val[s] for s in into[n])
            if rate is not None:
                v[n] = v[n] + dt / node.tau * (target - v[n])
            else:
                v[n] = target + (v[n] - target) * np.exp(-dt / node.tau)
    return {n: np.array(o) for n, o in outs.items()}


def _held(patterns, hold, dt):
    return np.repeat(np.array(patterns, dtype=float), int(round(hold / dt)), axis=0)


def _settled(y, hold, dt):
    """The mean of the last 10 % of each hold (truth_table's window)."""
    n = int(round(hold / dt))
    return [float(y[i * n + int(0.9 * n):(i + 1) * n].mean()) for i in range(len(y) // n)]


# -- the graph ------------------------------------------------------------------------------------------
def test_the_graph_is_lif_units_with_the_factored_recurrence_as_a_cycle(nand):
    g = to_nir(nand)
    kinds = {name: type(node).__name__ for name, node in g.nodes.items()}
    assert kinds == {"input": "Input", "inputs": "Linear", "units": "LIF", "decoders": "Linear", "signals": "LI",
                     "encoders": "Affine", "readout": "Linear", "outputs": "LI", "output": "Output"}
    cycle = [("units", "decoders"), ("decoders", "signals"), ("signals", "encoders"), ("encoders", "units")]
    assert set(g.edges) == {*cycle, ("input", "inputs"), ("inputs", "units"), ("units", "readout"),
                            ("readout", "outputs"), ("outputs", "output")}
    a, N = nand.info["activation"]["amplitude"], nand.n_neurons
    units = g.nodes["units"]
    for field, want in (("tau", 0.02), ("r", 1.0), ("v_leak", 0.0), ("v_threshold", 1.0), ("v_reset", 0.0)):
        np.testing.assert_array_equal(getattr(units, field), np.full(N, want))
    for li in ("signals", "outputs"):
        np.testing.assert_array_equal(g.nodes[li].tau, 1.0 / nand.gamma)
        np.testing.assert_array_equal(g.nodes[li].r, 1.0)
        np.testing.assert_array_equal(g.nodes[li].v_leak, 0.0)
    np.testing.assert_array_equal(g.nodes["decoders"].weight, a * nand.W_rec)
    np.testing.assert_array_equal(g.nodes["readout"].weight, a * nand.W)
    np.testing.assert_array_equal(g.nodes["encoders"].weight, nand.B_rec)
    np.testing.assert_array_equal(g.nodes["encoders"].bias, nand.d)
    np.testing.assert_array_equal(g.nodes["inputs"].weight, nand.B_ext)
    largest = max(np.size(getattr(node, f)) for node in g.nodes.values() for f in ("weight", "tau") if hasattr(node, f))
    assert largest == 2 * N  # O(N (k + m + outputs)): no N x N matrix
    meta = g.metadata
    assert meta["npl_nengo_format"] == NIR_FORMAT and meta["tau_ref"] == 0.0 and meta["dt"] == 1e-3
    assert meta["gamma"] == nand.gamma and meta["tau_rc"] == 0.02 and meta["amplitude"] == a
    assert meta["name"] == "nand" and meta["npl_nengo_version"] == npl.__version__


def test_the_file_reads_back_as_the_same_network(nand, nand_file):
    back = from_nir(nand_file)
    graph = nir.read(nand_file)  # nir's own reader takes it
    assert graph.metadata["dt"] == 5e-4 and graph.metadata["gamma"] == nand.gamma
    assert graph.nodes["units"].tau.dtype == np.float64  # nir keeps the dtype: float64, not float32
    for key in ("B_rec", "B_ext", "d", "r_star", "input_ranges", "residual", "noise_gain", "block_sizes"):
        np.testing.assert_array_equal(getattr(back, key), getattr(nand, key), err_msg=key)
    for key in ("output_ranges", "signal_initial"):
        np.testing.assert_array_equal(getattr(back, key), getattr(nand, key))  # NaN where the original has NaN
    for key in ("W_rec", "W"):  # stored times the amplitude, divided back: within one rounding
        np.testing.assert_allclose(getattr(back, key), getattr(nand, key), rtol=2.0**-52, atol=0)
    assert (back.name, back.gamma, back.method, back.seed) == (nand.name, nand.gamma, nand.method, nand.seed)
    assert (back.signal_names, back.input_names, back.output_names, back.block_names) == \
        (nand.signal_names, nand.input_names, nand.output_names, nand.block_names)
    assert {k: v for k, v in back.info.items() if k != "nir"} == nand.info
    assert back.info["nir"] == {"dt": 5e-4, "npl_nengo_version": npl.__version__}
    assert to_nir(back).metadata["dt"] == 5e-4  # the recorded step goes out again
    assert from_nir(to_nir(nand)).info["nir"]["dt"] == 1e-3  # a graph in memory reads as its file does


def test_the_graph_as_nir_defines_it_runs_the_reference_backends_rate_dynamics(nand):
    """Rate units in the graph's LIF node: the reference backend's Euler run, to rounding."""
    dt, hold = 1e-3, 0.5
    u = _held(PATTERNS, hold, dt)
    r0 = nand.initial_state()
    hz = npl.rnn.lif_rate  # nengo.LIFRate's curve, in Hz (amplitude 1)
    out = _simulate(to_nir(nand), u, dt, rate=lambda J: hz(J, {"tau_rc": 0.02, "tau_ref": 0.0, "amplitude": 1.0}),
                    li_init={"signals": nand.W_rec @ r0, "outputs": nand.W @ r0})["output"][:, 0]
    ref = npl.run(nand, {"s1": u[:, 0], "s2": u[:, 1]}, len(u) * dt, backend="reference", integrator="euler", dt=dt)
    # the reference backend records the state after each step, the interpreter's Output before it
    np.testing.assert_allclose(out[1:], ref["o"][:-1], rtol=0, atol=1e-14)  # measured: 3e-16


def test_the_graph_with_nirs_spiking_lif_units_holds_nands_levels(nand):
    dt, hold = 1e-3, 1.0
    r0 = nand.initial_state()
    out = _simulate(to_nir(nand), _held(PATTERNS, hold, dt), dt,
                    li_init={"signals": nand.W_rec @ r0, "outputs": nand.W @ r0},
                    lif_init=np.random.default_rng(0).uniform(0, 1, nand.n_neurons))["output"][:, 0]
    levels = _settled(out, hold, dt)
    want = [0.1, 0.1, 0.1, -0.1]  # nand
    assert max(abs(a - b) for a, b in zip(levels, want)) <= LEVEL_TOL, levels  # measured: 0.0002


def test_the_imported_network_runs_as_the_original_on_every_backend(nand, nand_file):
    back = from_nir(nand_file)
    u = _held(PATTERNS, 0.3, 1e-3)
    inputs = {"s1": u[:, 0], "s2": u[:, 1]}
    a = npl.run(nand, inputs, 1.2, backend="reference")
    b = npl.run(back, inputs, 1.2, backend="reference")
    np.testing.assert_allclose(b["o"], a["o"], rtol=0, atol=1e-14)  # rate runs: equal to rounding


@pytest.mark.parametrize("backend", ["nengo", "brian2"])
def test_the_imported_network_spikes_as_the_original(nand, nand_file, backend):
    if backend == "brian2":
        pytest.importorskip("brian2")
    back = from_nir(nand_file)
    metric = networks.get("nand").metric
    scores = [metric(net, backend=backend, neurons="lif", seed=1, hold=0.6) for net in (nand, back)]
    for x, y in zip(scores[0].rows, scores[1].rows):
        assert y["o"] == pytest.approx(x["o"], abs=LEVEL_TOL), (x, y)
    # the same spikes: the outputs agree to rounding (measured: within 3e-17)
    np.testing.assert_allclose(scores[1].result["o"], scores[0].result["o"], rtol=0, atol=1e-12)


# -- refusals ---------------------------------------------------------------------------------------------
def test_networks_nir_cannot_express_are_refused():
    tanh = npl.compile(networks.get("nand").build(), method="sampled", seed=0)
    with pytest.raises(ValidationError, match="tanh units; NIR export needs LIF units"):
        to_nir(tanh)
    lif = npl.compile(networks.get("nand").build(), method="sampled", activation="lif", seed=0)
    with pytest.raises(ValidationError, match="tau_ref = 0.002 s; NIR's LIF has no refractory period"):
        to_nir(lif)
    with pytest.raises(ValidationError, match="expected a ProgrammedRNN"):
        to_nir("nand")


def _edited(graph, **nodes):
    g = nir.NIRGraph(nodes={**graph.nodes, **nodes}, edges=list(graph.edges), metadata=dict(graph.metadata),
                     type_check=False)
    return g


def test_graphs_to_nir_did_not_write_are_refused(nand):
    foreign = nir.NIRGraph(nodes={"input": nir.Input(np.array([2])), "w": nir.Linear(np.ones((3, 2))),
                                  "lif": nir.CubaLIF(tau_syn=np.ones(3), tau_mem=np.ones(3), r=np.ones(3),
                                                     v_leak=np.zeros(3), v_threshold=np.ones(3)),
                                  "output": nir.Output(np.array([3]))},
                           edges=[("input", "w"), ("w", "lif"), ("lif", "output")], metadata={})
    with pytest.raises(FormatError, match="not a graph written by npl_nengo.to_nir"):
        from_nir(foreign)
    g = to_nir(nand)
    N = nand.n_neurons
    cuba = nir.CubaLIF(tau_syn=np.full(N, 0.01), tau_mem=np.full(N, 0.02), r=np.ones(N), v_leak=np.zeros(N),
                       v_threshold=np.ones(N))
    with pytest.raises(FormatError, match="node 'units' is CubaLIF, expected LIF"):
        from_nir(_edited(g, units=cuba))
    slow = nir.LI(tau=np.full(1, 0.05), r=np.ones(1), v_leak=np.zeros(1))
    with pytest.raises(FormatError, match=r"node 'signals' has tau = 0.05 s, expected 1/gamma = 0.01 s"):
        from_nir(_edited(g, signals=slow))
    leaky = nir.LIF(tau=np.full(N, 0.02), r=np.full(N, 2.0), v_leak=np.zeros(N), v_threshold=np.ones(N))
    with pytest.raises(FormatError, match="node 'units' has r = 2, expected 1"):
        from_nir(_edited(g, units=leaky))
    with pytest.raises(FormatError, match="node 'extra' .* is not part of a graph"):
        from_nir(_edited(g, extra=nir.Linear(np.ones((1, 1)))))
    cut = nir.NIRGraph(nodes=dict(g.nodes), edges=[e for e in g.edges if e != ("encoders", "units")],
                       metadata=dict(g.metadata), type_check=False)
    with pytest.raises(FormatError, match=r"edge \('encoders', 'units'\) is missing"):
        from_nir(cut)
    with pytest.raises(FormatError, match="expected a nir.NIRGraph"):
        from_nir(42)


def test_damaged_files_are_format_errors(nand, nand_file, tmp_path):
    data = nand_file.read_bytes()
    cases = {"truncated.nir": data[: len(data) // 2], "empty.nir": b"", "garbage.nir": b"\x89HDF\r\n" + b"x" * 999}
    flipped = bytearray(data)
    flipped[len(data) // 3: len(data) // 3 + 64] = b"\xff" * 64
    cases["flipped.nir"] = bytes(flipped)
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(FormatError, match="from_nir"):
            from_nir(tmp_path / name)
    with h5py.File(tmp_path / "other.h5", "w") as f:  # HDF5, not NIR
        f["x"] = np.arange(3.0)
    with pytest.raises(FormatError, match="not a readable NIR file"):
        from_nir(tmp_path / "other.h5")
    linked = tmp_path / "linked.nir"
    linked.write_bytes(data)
    with h5py.File(linked, "a") as f:  # a link to another file is never followed
        f["node/metadata/elsewhere"] = h5py.ExternalLink(str(tmp_path / "other.h5"), "/x")
    with pytest.raises(FormatError, match="ExternalLink; refused"):
        from_nir(linked)
    with pytest.raises(FormatError, match="no such file"):
        from_nir(tmp_path / "missing.nir")
    with pytest.raises(FormatError, match="not a regular file"):
        from_nir(tmp_path)


def test_an_existing_file_is_replaced_only_with_overwrite(nand, tmp_path):
    path = tmp_path / "gate.nir"
    to_nir(nand, path)
    before = path.read_bytes()
    with pytest.raises(SaveError, match="exists; pass overwrite=True"):
        to_nir(nand, path, dt=2e-3)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["gate.nir"]
    to_nir(nand, path, dt=2e-3, overwrite=True)
    assert from_nir(path).info["nir"]["dt"] == 2e-3
    with pytest.raises(SaveError, match="no such directory"):
        to_nir(nand, tmp_path / "missing" / "gate.nir")


def test_without_nir_installed_the_error_says_what_to_install(nand, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "nir", None)
    with pytest.raises(BackendUnavailable, match="pip install nir"):
        to_nir(nand)
