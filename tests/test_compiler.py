"""docs/method.md §8 checks 5, 6 and 14; compiler structure and reports."""

import numpy as np
import pytest

import npl_nengo as npl
from npl_nengo.networks import logic


def test_gate_residual_at_30_neurons(nand30):  # check 5
    assert nand30.residual[0] < 1e-8
    assert nand30.n_neurons == 30
    assert nand30.weight_norm > 1e5  # the paper's min-norm weights are huge


@pytest.mark.parametrize("N", [200, 500])
def test_lorenz_residual(lorenz_program, N):  # check 5
    rnn = npl.compile(lorenz_program, n_neurons=N, method="taylor")
    assert rnn.residual.max() < 1e-8


def test_lorenz_operating_point_readout(lorenz_program):  # check 12, first part
    rnn = npl.compile(lorenz_program, n_neurons=300)
    np.testing.assert_allclose(rnn.W @ rnn.r_star, np.array([0, 0, -0.036]) / rnn.gamma, atol=1e-9)


@pytest.mark.parametrize("N", [30, 1000])
def test_closed_loop_identity(N):  # check 6
    prog = logic.gate("nand")
    rnn = npl.compile(prog, n_neurons=N)
    rng = np.random.default_rng(0)
    B = np.concatenate([rnn.B_rec, rnn.B_ext], axis=1)  # columns: o, s1, s2
    errs, fs = [], []
    for _ in range(50):
        x = rng.uniform(-0.1, 0.1, size=3)
        r = np.tanh(B @ x + rnn.d)
        u = x[1:]
        rdot = rnn.gamma * (-r + rnn.drive(r, u))
        o = rnn.W @ r
        f = prog.evaluate("o", {"o": o[0], "s1": u[0], "s2": u[1]})
        errs.append((rnn.W @ rdot)[0] - f)
        fs.append(f)
    assert np.max(np.abs(errs)) / np.sqrt(np.mean(np.square(fs))) < 1e-2


def test_open_loop_map_reaches_f_not_f_over_gamma():  # check 14
    prog = npl.Program("neg", maps={"y": "-s"}, inputs={"s": (-0.1, 0.1)})
    rnn = npl.compile(prog, n_neurons=50)
    res = npl.run(rnn, {"s": 0.08}, duration=0.2)
    assert res["y"][-1] == pytest.approx(-0.08, abs=1e-4)


def test_mixed_states_and_maps():
    prog = npl.Program(
        "leaky",
        derivatives={"x": "-5*x + 5*s"},
        maps={"y": "2*x"},
        inputs={"s": (-0.1, 0.1)},
        ranges={"x": (-0.1, 0.1)},
    )
    rnn = npl.compile(prog, n_neurons=100)
    res = npl.run(rnn, {"s": 0.05}, duration=2.0)
    assert res["x"][-1] == pytest.approx(0.05, abs=1e-4)
    assert res["y"][-1] == pytest.approx(0.10, abs=2e-4)


def test_circuit_wiring_uses_the_receiving_parts_columns():  # check 14: >= 2 connections into one part
    fa = logic.full_adder()
    rnn = npl.compile(fa, n_neurons=30, seed=3)
    parts = [p.path for p in fa.flat.parts]
    assert list(rnn.block_names) == parts
    sizes = rnn.block_sizes.astype(int)
    off = np.concatenate([[0], np.cumsum(sizes)])
    blk = {p: slice(off[i], off[i + 1]) for i, p in enumerate(parts)}
    # Compile each gate alone with the same seed stream to get its own B columns (s1, s2, o order: o, s1, s2).
    seeds = np.random.SeedSequence(3).spawn(len(parts))
    from npl_nengo.compiler import _fit_taylor

    own = {p: _fit_taylor(fa.flat.parts[i].program, 30, seeds[i], 100.0, None, 0.025) for i, p in enumerate(parts)}
    j_g1 = rnn.signal_names.index("g1.o")
    # g1.o drives g2.s1 and g3.s1 (variables order o, s1, s2 -> column 1 is s1)
    np.testing.assert_array_equal(rnn.B_rec[blk["g2"], j_g1], own["g2"].B[:, 1])
    np.testing.assert_array_equal(rnn.B_rec[blk["g3"], j_g1], own["g3"].B[:, 1])
    np.testing.assert_array_equal(rnn.B_rec[blk["g1"], j_g1], own["g1"].B[:, 0])  # own feedback
    # g5 receives g3 on s1 and g4 on s2: two connections into one part
    np.testing.assert_array_equal(rnn.B_rec[blk["g5"], rnn.signal_names.index("g3.o")], own["g5"].B[:, 1])
    np.testing.assert_array_equal(rnn.B_rec[blk["g5"], rnn.signal_names.index("g4.o")], own["g5"].B[:, 2])
    # external cin drives g2.s2 and g3.s2
    j_cin = rnn.input_names.index("cin")
    np.testing.assert_array_equal(rnn.B_ext[blk["g2"], j_cin], own["g2"].B[:, 2])
    np.testing.assert_array_equal(rnn.B_ext[blk["g3"], j_cin], own["g3"].B[:, 2])
    assert np.all(rnn.B_ext[blk["g5"], :] == 0)
    # decoders live in their own block only
    np.testing.assert_array_equal(rnn.W_rec[j_g1, blk["g1"]], own["g1"].W[0])
    assert np.all(rnn.W_rec[j_g1, off[1]:] == 0)


def test_gamma_propagates_through_composition():  # check 14
    rnn = npl.compile(logic.sr_latch(), n_neurons=30, gamma=200.0)
    assert rnn.gamma == 200.0
    score = npl.networks.get("sr_latch").metric(rnn, pulse=0.5, hold=2.0, dt=5e-4)
    assert score.passed, score.rows


def test_factored_never_dense():
    rnn = npl.compile(logic.full_adder(), n_neurons=100)
    assert rnn.W_rec.shape == (rnn.n_signals, rnn.n_neurons)
    assert rnn.B_rec.shape == (rnn.n_neurons, rnn.n_signals)
    assert rnn.n_signals == 5


def test_sampled_compiler_reports_noise_and_small_weights(nand_program):
    rnn = npl.compile(nand_program, n_neurons=200, method="sampled")
    part = rnn.info["parts"]["nand"]
    assert part["noise_std"] > 0 and part["relaxation_rate"] > 1
    assert rnn.weight_norm < 1.0
    assert rnn.expected_noise(1000.0)[0] < 0.01
    taylor = npl.compile(nand_program, n_neurons=200)
    assert taylor.expected_noise(1000.0)[0] > 1e3 * rnn.expected_noise(1000.0)[0]


def test_same_seed_same_network_and_different_seed_differs(nand_program):
    a = npl.compile(nand_program, n_neurons=40, seed=5)
    b = npl.compile(nand_program, n_neurons=40, seed=5)
    c = npl.compile(nand_program, n_neurons=40, seed=6)
    np.testing.assert_array_equal(a.W, b.W)
    assert not np.array_equal(a.W, c.W)


def test_compile_error_reports_residual():
    prog = logic.gate("xor")
    with pytest.raises(npl.CompileError, match=r"output 'o': residual .* with N=5; try more neurons"):
        npl.compile(prog, n_neurons=5, max_residual=1e-8)


def test_provenance(nand30):
    assert nand30.method == "taylor" and nand30.seed == 0
    assert nand30.info["library_version"] == npl.__version__
    assert nand30.noise_gain[0] == pytest.approx(np.linalg.norm(nand30.W[0]))


# --- programming a given reservoir ---------------------------------------------------------------

def _reservoir(n, k, scale, seed=3):
    rng = np.random.default_rng(seed)
    return rng.uniform(-scale, scale, (n, k)), rng.uniform(-0.5, 0.5, n)


@pytest.mark.parametrize("method, scale", [("taylor", 0.025), ("sampled", 20.0)])
def test_compile_programs_a_given_reservoir(method, scale):
    from npl_nengo import networks

    B, r_star = _reservoir(300, 3, scale)  # columns over nand's variables: o, s1, s2
    rnn = npl.compile(logic.gate("nand"), method=method, reservoir=(B, r_star))
    assert rnn.n_neurons == 300 and rnn.info["parts"]["nand"]["reservoir"] == "given"
    np.testing.assert_array_equal(rnn.r_star, r_star)
    np.testing.assert_array_equal(rnn.B_rec[:, 0], B[:, 0])
    np.testing.assert_array_equal(rnn.B_ext, B[:, 1:])
    assert networks.get("nand").metric(rnn, tol=0.002).passed
    # the same reservoir decompiles: its static code's constant term is the operating point
    np.testing.assert_allclose(npl.decompile(B, r_star, degree=1, derivatives=False).C1[:, 0], r_star)


def test_compile_programs_given_parts_of_a_circuit():
    B, r_star = _reservoir(200, 3, 0.025)
    rnn = npl.compile(logic.sr_latch(), method="taylor", reservoir={"n2": (B, r_star)})
    parts = rnn.info["parts"]
    assert parts["n1"]["reservoir"] == "drawn" and parts["n2"]["reservoir"] == "given"
    np.testing.assert_array_equal(rnn.r_star[-200:], r_star)


@pytest.mark.parametrize("reservoir, kwargs, match", [
    ((np.zeros((10, 2)), np.zeros(10)), {}, r"shape \(10, 2\), expected \(N, 3\)"),
    ((np.zeros((10, 3)), np.zeros(9)), {}, r"r_star has shape \(9,\)"),
    ((np.zeros((10, 3)), np.full(10, 1.0)), {}, r"\|r_star\| must be < 1"),
    ((np.full((10, 3), np.nan), np.zeros(10)), {}, "finite"),
    ((np.zeros((10, 3)),), {}, "pair"),
    ((np.zeros((10, 3)), np.zeros(10)), {"n_neurons": 20}, "given reservoir has 10 units"),
    ((np.zeros((10, 3)), np.zeros(10)), {"input_scale": 2.0}, "input_scale"),
    ((np.zeros((10, 3)), np.zeros(10)), {"method": "sampled", "activation": "lif"}, "tanh"),
    ({"nope": (np.zeros((10, 3)), np.zeros(10))}, {}, r"parts \['nope'\]"),
    (([["a"]], [0.0]), {}, "numeric"),
])
def test_given_reservoir_is_validated(reservoir, kwargs, match):
    with pytest.raises(npl.ValidationError, match=match):
        npl.compile(logic.gate("nand"), reservoir=reservoir, **kwargs)


def test_a_circuit_needs_its_reservoirs_by_part():
    with pytest.raises(npl.ValidationError, match="part path"):
        npl.compile(logic.sr_latch(), reservoir=_reservoir(10, 3, 0.025))


@pytest.mark.parametrize("lam", [1e-3, 1.0, 30.0])
def test_fewer_samples_than_units_solve_the_same_pinned_ridge(lam):
    """n_samples < N: the S x S (samples) system gives the N x N (units) solution, constraints held."""
    from npl_nengo.compiler import _pinned_ridge

    rng = np.random.default_rng(0)
    S, N = 120, 300
    A, Y = rng.standard_normal((S, N)), rng.standard_normal((S, 2))
    C, D = rng.standard_normal((3, N)), rng.standard_normal((3, 2))
    G = A.T @ A + lam * np.eye(N)
    W0, GC = np.linalg.solve(G, A.T @ Y), np.linalg.solve(G, C.T)
    primal = W0 - GC @ np.linalg.lstsq(C @ GC, C @ W0 - D, rcond=1e-12)[0]
    dual = _pinned_ridge(A, Y, lam, C, D)
    assert np.max(np.abs(dual - primal)) < 1e-8 * np.max(np.abs(primal))
    np.testing.assert_allclose(C @ dual, D, atol=1e-12)
    assert np.max(np.abs(_pinned_ridge(A, Y, lam, None, None) - W0)) < 1e-8 * np.max(np.abs(W0))


def test_a_sampled_compile_with_fewer_samples_than_units_keeps_the_levels():
    rnn = npl.compile(logic.gate("nand"), method="sampled", n_neurons=600, n_samples=256, seed=0)
    res = npl.run(rnn, {"s1": 0.1, "s2": 0.1}, 0.5, backend="reference")
    assert abs(res["o"][-1] + 0.1) < 1e-3  # pinned: NAND(1, 1) at its level


def test_lif_units_parameters_are_an_option():
    rnn = npl.compile(logic.gate("nand"), method="sampled", activation="lif", lif={"tau_ref": 0.0}, n_neurons=100)
    assert rnn.info["activation"]["tau_ref"] == 0.0 and rnn.info["activation"]["tau_rc"] == 0.02
    res = npl.run(rnn, {"s1": 0.1, "s2": 0.1}, 0.3, backend="reference")  # rate: the pinned level
    assert abs(res["o"][-1] + 0.1) < 1e-3
    for bad, match in [({"tau_ref": -1.0}, "tau_ref"), ({"amplitude": 1.0}, "only 'tau_rc' and 'tau_ref'"),
                       ("fast", "must be a dict")]:
        with pytest.raises(npl.ValidationError, match=match):
            npl.compile(logic.gate("nand"), method="sampled", activation="lif", lif=bad, n_neurons=20)
    with pytest.raises(npl.ValidationError, match="needs activation='lif'"):
        npl.compile(logic.gate("nand"), method="sampled", lif={"tau_ref": 0.0}, n_neurons=20)
