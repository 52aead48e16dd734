"""Neural processing units: the program builders, the NPU metrics and the library entries."""

import numpy as np
import pytest
import sympy

import npl_nengo as npl
from npl_nengo import ValidationError, networks, programs
from npl_nengo.metrics import _settle_time, map_accuracy, random_points
from npl_nengo.networks import npu
from npl_nengo.program import flatten


def _box(program, n=20, seed=3):
    return random_points(flatten(program).input_ranges, n, seed)


# -- builders: the programs compute what they say -----------------------------------------------------------
def test_matrix_ops_maps_are_numpys_matrix_arithmetic():
    p = programs.matrix_ops()
    assert p.maps[:4] == ("sum11", "sum12", "sum21", "sum22") and len(p.maps) == 16 and p.states == ()
    for point in _box(p):
        want = npu.matrix_exact(point)
        values = {k: np.array([v]) for k, v in point.items()}
        for out in p.maps:
            assert p.evaluate(out, values)[0] == pytest.approx(want[out], abs=1e-12)


def test_matrix_ops_rectangular_matmul_and_names():
    p = programs.matrix_ops((2, 3), (3, 1), ops=["matmul"])
    assert p.maps == ("matmul11", "matmul21") and len(p.inputs) == 9
    rng = np.random.default_rng(0)
    a, b = rng.uniform(-1, 1, (2, 3)), rng.uniform(-1, 1, (3, 1))
    values = {f"a{i + 1}{j + 1}": np.array([a[i, j]]) for i in range(2) for j in range(3)}
    values.update({f"b{i + 1}1": np.array([b[i, 0]]) for i in range(3)})
    np.testing.assert_allclose([p.evaluate(o, values)[0] for o in p.maps], (a @ b)[:, 0], atol=1e-12)
    assert programs.names(programs.matrix("w", 2, 10))[9] == "w1_10"  # unambiguous past 9


@pytest.mark.parametrize("call, match", [
    (lambda: programs.matrix_ops(ops=["cross"]), "operation 'cross'"),
    (lambda: programs.matrix_ops((2, 3), (2, 3), ops=["matmul"]), "matmul needs A's columns"),
    (lambda: programs.matrix_ops((2, 3), (3, 2), ops=["sum"]), "sum needs A and B of one shape"),
    (lambda: programs.matrix_ops(ops="sum"), "non-empty list"),
    (lambda: programs.matrix_ops(limit=-1), "limit must be finite and > 0"),
    (lambda: programs.matrix_ops((0, 2)), "rows must be an integer from 1"),
    (lambda: programs.matrix("a", 2, 99), "cols must be an integer from 1 to 12"),
    (lambda: programs.names(programs.matrix("a", 1, 2) * 2), "is an expression"),
    (lambda: programs.linear_solver(2, 3), "fewer equations than unknowns"),
    (lambda: programs.linear_solver(rhs=(-3, 3)), "solution reaches"),
    (lambda: programs.linear_solver(diagonal=(1, 0.5)), "low < high"),
    (lambda: programs.polynomial_root({3: (0, 1)}), "power 3"),
    (lambda: programs.polynomial_root(kappa=float("nan")), "kappa must be finite"),
    (lambda: programs.integrator([]), "dims is empty"),
])
def test_builders_name_what_is_wrong(call, match):
    with pytest.raises(ValidationError, match=match):
        call()


def test_linear_solver_fixed_point_is_numpys_least_squares_solution():
    c = programs.linear_solver(3, 2)
    normal, flow = c.parts["normal"], c.parts["flow"]
    assert set(normal.maps) == {"g11", "g12", "g22", "h1", "h2"} and flow.states == ("x1", "x2")
    for point in _box(c):
        values = {k: np.array([v]) for k, v in point.items()}
        gh = {m: normal.evaluate(m, values) for m in normal.maps}
        for m in normal.maps:  # the flow's declared input ranges cover what the normal unit sends
            lo, hi = flow.input_ranges[m]
            assert lo < gh[m][0] < hi
        x = npu.lstsq_solution(point)
        at = {**gh, **{k: np.array([v]) for k, v in x.items()}}
        assert max(abs(flow.evaluate(s, at)[0]) for s in flow.states) < 1e-10  # dx/dt = 0 at the solution
        assert max(abs(v) for v in x.values()) < 1.0  # inside the declared bound
    # and the gradient flow points towards it: dx/dt . (x* - x) > 0 away from the solution
    point = _box(c, 1)[0]
    values = {k: np.array([v]) for k, v in point.items()}
    gh = {m: normal.evaluate(m, values) for m in normal.maps}
    x = npu.lstsq_solution(point)
    off = {"x1": np.array([x["x1"] + 0.2]), "x2": np.array([x["x2"] - 0.1])}
    step = np.array([flow.evaluate(s, {**gh, **off})[0] for s in flow.states])
    assert step @ np.array([-0.2, 0.1]) > 0


def test_polynomial_root_settles_where_numpy_finds_the_root():
    p = programs.polynomial_root()
    assert p.inputs == ("c1", "c0")
    for point in _box(p):
        x = npu.root_solution(point)["x"]
        assert abs(x) < 1
        assert p.evaluate("x", {"x": np.array([x]), **{k: np.array([v]) for k, v in point.items()}})[0] == \
            pytest.approx(0, abs=1e-9)
    q = programs.polynomial_root({2: 0.5, 0: (-0.1, 0.1)}, degree=3, kappa=2)
    assert q.inputs == ("c0",) and sympy.expand(q.derivatives["x"] + 2 * (sympy.Symbol("x", real=True) ** 3 + 0.5
                                                                         * sympy.Symbol("x", real=True) ** 2
                                                                         + sympy.Symbol("c0", real=True))) == 0


def test_integrator_program():
    p = programs.integrator(("x", "y", "z"), speed=0.5, bound=2)
    assert p.states == ("x", "y", "z") and p.inputs == ("vx", "vy", "vz")
    assert p.input_ranges["vz"] == (-0.5, 0.5) and p.ranges["x"] == (-2, 2) and p.initial == {"x": 0, "y": 0, "z": 0}


# -- metrics ----------------------------------------------------------------------------------------------
def test_settle_time():
    t = np.arange(1, 1001) * 1e-3
    err = np.where(t < 0.3, 1.0, 0.01)
    assert _settle_time(t, err, 0.05, 0.1) == pytest.approx(0.3 + 0.1 * 0.95 / 0.99 * 0.99, abs=0.01)
    assert _settle_time(t, np.full_like(t, 0.01), 0.05, 0.1) == pytest.approx(0.1, abs=2e-3)  # one full window
    assert _settle_time(t, np.where(t < 0.999, 0.0, 1.0), 0.05, 0.01) == float("inf")  # never settles


def test_random_points_are_seeded_and_inside_the_box():
    box = {"a": (-1.0, 1.0), "b": (0.2, 0.3)}
    pts = random_points(box, 50, seed=4)
    assert pts == random_points(box, 50, seed=4) and pts != random_points(box, 50, seed=5)
    assert all(-1 <= p["a"] <= 1 and 0.2 <= p["b"] <= 0.3 for p in pts)
    with pytest.raises(ValidationError, match="n must be an integer"):
        random_points(box, 0)


@pytest.fixture(scope="module")
def compiled():
    return {name: npl.compile(networks.get(name).build(), method="sampled", **networks.get(name).compile)
            for name in ("npu_matrix", "npu_lstsq", "npu_root", "path_integrator")}


def test_map_accuracy_fails_a_wrong_answer(compiled):
    rnn = compiled["npu_matrix"]
    points = _box(networks.get("npu_matrix").build(), 2)
    right = map_accuracy(rnn, npu.matrix_exact, points, backend="nengo")
    wrong = map_accuracy(rnn, lambda p: {**npu.matrix_exact(p), "matmul12": npu.matrix_exact(p)["matmul12"] + 0.2},
                         points, backend="nengo")
    assert right.passed and not wrong.passed and wrong.error > 0.15 and wrong.details["worst_matmul"] > 0.15
    assert right.details["worst_sum"] < 0.01 and len(right.rows) == 2


# -- the library entries at rate level and under regular spikes ---------------------------------------------
#: What the docs state, with margins, checked on the rate cells: the matrix NPU's sums to ~1 %, the
#: solver's typical error ~1 % and settling well inside its limit, the integrator's drift ~1e-3 per second.
BEYOND = {
    "npu_matrix": lambda s: s.details["worst_sum"] < 0.01 and s.details["rms"] < 0.02,
    "npu_lstsq": lambda s: s.details["mean_error"] < 0.02 and s.details["settle_s"] < 1.2,
    "npu_root": lambda s: s.details["mean_error"] < 0.02,
    "path_integrator": lambda s: s.error < 0.02 and s.details["drift_per_s"] < 0.002,
}


@pytest.mark.parametrize("neurons", ["rate", "regular"])
@pytest.mark.parametrize("name, points", [("npu_matrix", 6), ("npu_lstsq", 3), ("npu_root", 4), ("path_integrator", None)])
def test_entry_passes_its_metric_on_nengo(compiled, name, points, neurons):
    options = {} if points is None else {"points": points}
    score = networks.get(name).metric(compiled[name], backend="nengo", neurons=neurons, seed=1, **options)
    assert score.passed, score.summary()
    if neurons == "rate":
        assert BEYOND[name](score), score.summary()


def test_too_few_neurons_fail_the_matrix_check():
    rnn = npl.compile(networks.get("npu_matrix").build(), method="sampled", n_neurons=40, gamma=10.0)
    score = networks.get("npu_matrix").metric(rnn, backend="nengo", points=4)
    assert not score.passed and score.error > 0.1
