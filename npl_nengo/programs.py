"""Program builders for neural processing units (NPUs): matrices, equations, integrators.

Kim & Bassett program a reservoir's outputs as *neural processing units*:
independently addressable matrix operations read out of one reservoir, units
chained so that fed-back outputs converge to the solution of an equation, and
trajectory integration.  These builders write such programs so that nobody has
to spell out every matrix entry by hand:

>>> from npl_nengo import programs
>>> npu = programs.matrix_ops((2, 2), (2, 2))          # sum, difference, products of two 2x2 matrices
>>> npu.maps[:3]
('sum11', 'sum12', 'sum21')
>>> A = programs.matrix("a", 2, 2)                     # sympy symbols a11 .. a22, for your own programs
>>> programs.names(A)
['a11', 'a12', 'a21', 'a22']

Every builder returns an ordinary :class:`~npl_nengo.Program` or
:class:`~npl_nengo.Circuit`: compile and run it like any other.  The library
entries ``npu_matrix``, ``npu_lstsq``, ``npu_root`` and ``path_integrator``
(:mod:`npl_nengo.networks.npu`) are built here.
"""

from __future__ import annotations

import itertools
from typing import Any, Mapping, Sequence

import numpy as np
import sympy

from .errors import ValidationError
from .program import Circuit, Program, Range

__all__ = ["matrix", "names", "matrix_ops", "OPS", "linear_solver", "polynomial_root", "integrator"]

#: Operations of :func:`matrix_ops` and the output name prefix of each.
OPS = {"sum": "sum", "difference": "diff", "product": "prod", "matmul": "matmul"}
#: Largest matrix side the builders accept (a 12 x 12 product is 1728 terms: past that, split it).
MAX_SIDE = 12


def _index(i: int, j: int, rows: int, cols: int) -> str:
    """Entry suffix: ``"12"`` for row 1, column 2 (1-based); ``"1_12"`` once a side exceeds 9."""
    return f"{i + 1}{j + 1}" if max(rows, cols) <= 9 else f"{i + 1}_{j + 1}"


def _side(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= int(value) <= MAX_SIDE:
        raise ValidationError(f"{what} must be an integer from 1 to {MAX_SIDE}, got {value!r}")
    return int(value)


def matrix(name: str, rows: int, cols: int) -> sympy.Matrix:
    """A ``rows`` x ``cols`` sympy matrix of real symbols ``name11``, ``name12``, ...

    Use it to write programs over matrices (``A @ x - b``, ``A.T @ A``) and
    :func:`names` to list its entries for a program's ``inputs``.
    """
    rows, cols = _side(rows, f"matrix {name!r}: rows"), _side(cols, f"matrix {name!r}: cols")
    return sympy.Matrix(rows, cols, lambda i, j: sympy.Symbol(f"{name}{_index(i, j, rows, cols)}", real=True))


def names(m: sympy.Matrix) -> list[str]:
    """The names of a matrix's entries, row by row (each entry must be a single symbol)."""
    out = []
    for e in m:
        if not isinstance(e, sympy.Symbol):
            raise ValidationError(f"names: entry {e} is an expression, not a symbol")
        out.append(e.name)
    return out


def _range(value: Any, what: str) -> Range:
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValidationError(f"{what} must be a (low, high) pair, got {value!r}") from None
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValidationError(f"{what} must be finite with low < high, got {value!r}")
    return lo, hi


def _positive(value: object, what: str) -> float:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValidationError(f"{what} must be a number, got {value!r}") from None
    if not (np.isfinite(v) and v > 0):
        raise ValidationError(f"{what} must be finite and > 0, got {value!r}")
    return v


def _maps(prefix: str, m: sympy.Matrix) -> dict[str, sympy.Expr]:
    rows, cols = m.shape
    return {f"{prefix}{_index(i, j, rows, cols)}": sympy.expand(m[i, j]) for i in range(rows) for j in range(cols)}


def matrix_ops(
    shape_a: tuple[int, int] = (2, 2),
    shape_b: tuple[int, int] | None = None,
    ops: Sequence[str] = tuple(OPS),
    limit: float = 1.0,
    name: str = "npu_matrix",
) -> Program:
    """A matrix NPU: independently addressable operations on two matrices, as open-loop maps.

    Inputs are the entries ``a11 ..`` of ``A`` (``shape_a``) and ``b11 ..`` of
    ``B`` (``shape_b``, default ``shape_a``), each in ``(-limit, limit)``.  Each
    operation in ``ops`` adds one map per entry of its result, every one its own
    readout of the same reservoir:

    * ``"sum"``: ``sum_ij = a_ij + b_ij``; ``"difference"``: ``diff_ij = a_ij - b_ij``;
      ``"product"`` (element-wise): ``prod_ij = a_ij b_ij`` — these need equal shapes;
    * ``"matmul"``: ``matmul_ij = sum_k a_ik b_kj`` — needs ``A``'s columns = ``B``'s rows.

    >>> p = matrix_ops((2, 3), (3, 1), ops=["matmul"])
    >>> p.maps
    ('matmul11', 'matmul21')
    """
    try:
        ra, ca = shape_a
        rb, cb = shape_a if shape_b is None else shape_b
    except (TypeError, ValueError):
        raise ValidationError(f"matrix_ops: shapes must be (rows, cols) pairs, got {shape_a!r}, {shape_b!r}") from None
    A, B = matrix("a", ra, ca), matrix("b", rb, cb)
    limit = _positive(limit, "matrix_ops: limit")
    if isinstance(ops, str) or not ops:
        raise ValidationError(f"matrix_ops: ops must be a non-empty list of {sorted(OPS)}, got {ops!r}")
    maps: dict[str, sympy.Expr] = {}
    for op in ops:
        if op not in OPS:
            raise ValidationError(f"matrix_ops: operation {op!r} is not one of {', '.join(OPS)}")
        if op == "matmul":
            if ca != rb:
                raise ValidationError(f"matrix_ops: matmul needs A's columns ({ca}) = B's rows ({rb})")
            maps.update(_maps(OPS[op], A @ B))
            continue
        if A.shape != B.shape:
            raise ValidationError(f"matrix_ops: {op} needs A and B of one shape, got {A.shape} and {B.shape}")
        result = {"sum": A + B, "difference": A - B, "product": A.multiply_elementwise(B)}[op]
        maps.update(_maps(OPS[op], result))
    inputs = {n: (-limit, limit) for n in names(A) + names(B)}
    return Program(name, inputs=inputs, maps=maps,
                   description=f"matrix NPU: {', '.join(ops)} of A {ra}x{ca} and B {rb}x{cb}, entries in ±{limit:g}")


def linear_solver(
    m: int = 3,
    n: int = 2,
    kappa: float = 10.0,
    diagonal: tuple[float, float] = (0.6, 1.0),
    off_diagonal: tuple[float, float] = (-0.2, 0.2),
    rhs: tuple[float, float] = (-0.3, 0.3),
    bound: float = 1.0,
    name: str = "npu_lstsq",
) -> Circuit:
    """An equation-solving NPU: two chained units whose fed-back output converges to ``argmin |A x - b|``.

    ``A`` is ``m`` x ``n`` (``m >= n``; ``m > n`` is a least-squares regression),
    ``b`` has ``m`` entries.  The first unit (``normal``, open-loop maps) forms
    the normal equations ``G = A^T A`` (its upper triangle, ``g11, g12, ..``) and
    ``h = A^T b``; the second (``flow``) runs the gradient flow of ``|A x - b|^2 / 2``,

        dx/dt = -kappa (G x - h) = -kappa A^T (A x - b),

    whose unique fixed point is the least-squares solution when ``A`` has full
    column rank, reached at the rate ``kappa`` times ``A``'s smallest squared
    singular value.  Each unit's map is quadratic (the single-unit flow is
    cubic in the inputs, and measured 3x less accurate at the same size).

    Declared ranges: ``a_ii`` in ``diagonal``, the other entries in
    ``off_diagonal`` (rows past ``n`` too), ``b`` in ``rhs``; with the defaults
    ``A``'s square part is diagonally dominant, so every solution lies within
    ``bound`` (checked over the box's corners and random points: otherwise a
    :class:`ValidationError` says which range to narrow).
    """
    m, n = _side(m, "linear_solver: m"), _side(n, "linear_solver: n")
    if m < n:
        raise ValidationError(f"linear_solver: m ({m}) must be >= n ({n}): fewer equations than unknowns")
    kappa, bound = _positive(kappa, "linear_solver: kappa"), _positive(bound, "linear_solver: bound")
    diag = _range(diagonal, "linear_solver: diagonal")
    off = _range(off_diagonal, "linear_solver: off_diagonal")
    rhs_r = _range(rhs, "linear_solver: rhs")
    A = matrix("a", m, n)
    a_names, b_names, x_names = names(A), [f"b{i + 1}" for i in range(m)], [f"x{j + 1}" for j in range(n)]
    b = sympy.Matrix([sympy.Symbol(s, real=True) for s in b_names])
    x = sympy.Matrix([sympy.Symbol(s, real=True) for s in x_names])
    inputs = {a_names[i * n + j]: diag if i == j else off for i in range(m) for j in range(n)}
    inputs.update({s: rhs_r for s in b_names})
    G, h = A.T @ A, A.T @ b
    g_names = {(j, k): f"g{_index(j, k, n, n)}" for j in range(n) for k in range(j, n)}
    normal_maps = {g_names[j, k]: sympy.expand(G[j, k]) for (j, k) in g_names}
    normal_maps.update({f"h{j + 1}": sympy.expand(h[j]) for j in range(n)})
    normal = Program("normal", inputs=inputs, maps=normal_maps,
                     description=f"normal equations G = A^T A, h = A^T b of A {m}x{n}")
    lo, hi, solutions = _normal_ranges(normal, inputs, m, n)
    worst = float(np.max(np.abs(solutions)))
    if worst >= bound:
        raise ValidationError(f"linear_solver: a solution reaches |x| = {worst:.3g} >= bound {bound:g}: narrow "
                              f"rhs or off_diagonal, widen diagonal, or raise bound")
    g_sym = {key: sympy.Symbol(s, real=True) for key, s in g_names.items()}
    Gs = sympy.Matrix(n, n, lambda j, k: g_sym[min(j, k), max(j, k)])
    hs = sympy.Matrix([sympy.Symbol(f"h{j + 1}", real=True) for j in range(n)])
    flow_in = {s: (lo[s], hi[s]) for s in normal_maps}
    flow = Program("flow", derivatives={x_names[j]: -kappa * sympy.expand((Gs @ x - hs)[j]) for j in range(n)},
                   inputs=flow_in, ranges={s: (-bound, bound) for s in x_names}, initial={s: 0.0 for s in x_names},
                   description=f"gradient flow dx/dt = -{kappa:g} (G x - h)")
    return Circuit(name, parts={"normal": normal, "flow": flow},
                   wires=[(f"normal.{s}", f"flow.{s}") for s in normal_maps],
                   inputs={s: [f"normal.{s}"] for s in inputs}, outputs={s: f"flow.{s}" for s in x_names},
                   description=f"least squares NPU: A {m}x{n}, b {m}: normal equations -> gradient flow (kappa {kappa:g})")


def _normal_ranges(normal: Program, inputs: Mapping[str, Range], m: int, n: int):
    """Ranges of the normal equations' entries, and the solutions, over the input box.

    Corners of the box (where the quadratic entries take their extremes, up to
    2^12 of them) and 4096 seeded random points; each range is widened by 5 %
    of its width so that no input of the flow sits on its edge.
    """
    keys = list(inputs)
    box = np.array([inputs[k] for k in keys])
    rng = np.random.default_rng(0)
    points = rng.uniform(box[:, 0], box[:, 1], size=(4096, len(keys)))
    if len(keys) <= 12:
        points = np.vstack([points, np.array(list(itertools.product(*box)))])
    values = {k: points[:, i] for i, k in enumerate(keys)}
    lo, hi = {}, {}
    for s in normal.maps:
        v = normal.evaluate(s, values)
        pad = 0.05 * max(float(np.ptp(v)), 1e-6)
        lo[s], hi[s] = float(v.min()) - pad, float(v.max()) + pad
    A = points[:, : m * n].reshape(-1, m, n)
    b = points[:, m * n :]
    solutions = np.stack([np.linalg.lstsq(a, y, rcond=None)[0] for a, y in zip(A[:2048], b[:2048])])
    return lo, hi, solutions


def polynomial_root(
    coefficients: Mapping[int, Range | float] | None = None,
    degree: int = 3,
    kappa: float = 10.0,
    bound: float = 1.0,
    name: str = "npu_root",
) -> Program:
    """A root-finding NPU: ``dx/dt = -kappa p(x)`` for the monic polynomial ``p`` whose coefficients are inputs.

    ``p(x) = x^degree + sum_k c_k x^k``; ``coefficients`` maps a power ``k``
    (below ``degree``) to a ``(low, high)`` range — the input ``c{k}`` — or to
    a constant; powers not given are 0.  ``x`` settles on a root where
    ``p' > 0``.  The default, ``x^3 + c1 x + c0`` with ``c1`` in (0.2, 1) and
    ``c0`` in (-0.3, 0.3), has ``p' >= c1 > 0`` everywhere: one real root, reached
    from any start, inside ``bound``.
    """
    degree = _side(degree, "polynomial_root: degree")
    kappa, bound = _positive(kappa, "polynomial_root: kappa"), _positive(bound, "polynomial_root: bound")
    coefficients = {1: (0.2, 1.0), 0: (-0.3, 0.3)} if coefficients is None else dict(coefficients)
    x = sympy.Symbol("x", real=True)
    p, inputs = x**degree, {}
    for k, c in coefficients.items():
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k < degree:
            raise ValidationError(f"polynomial_root: power {k!r} must be an integer from 0 to {degree - 1}")
        if isinstance(c, (int, float, np.number)) and not isinstance(c, bool):
            if not np.isfinite(float(c)):
                raise ValidationError(f"polynomial_root: coefficient of x^{k} is not finite")
            p += sympy.Float(float(c)) * x**k
        else:
            inputs[f"c{k}"] = _range(c, f"polynomial_root: coefficient of x^{k}")
            p += sympy.Symbol(f"c{k}", real=True) * x**int(k)
    return Program(name, derivatives={"x": -kappa * p}, inputs=inputs, ranges={"x": (-bound, bound)},
                   initial={"x": 0.0}, description=f"root NPU: dx/dt = -{kappa:g} ({sympy.sstr(p)})")


def integrator(dims: Sequence[str] = ("x", "y"), speed: float = 0.2, bound: float = 1.0,
               name: str = "path_integrator") -> Program:
    """A path integrator: ``d(pos)/dt = v`` for each position in ``dims``, velocities ``v<dim>`` as inputs.

    Velocities range over ``(-speed, speed)`` (units/s), positions over
    ``(-bound, bound)``; positions start at 0.  With no input the position is
    held: what it moves then is the network's drift.
    """
    dims = [dims] if isinstance(dims, str) else list(dims)
    if not dims:
        raise ValidationError("integrator: dims is empty")
    speed, bound = _positive(speed, "integrator: speed"), _positive(bound, "integrator: bound")
    return Program(name, derivatives={d: f"v{d}" for d in dims}, inputs={f"v{d}": (-speed, speed) for d in dims},
                   ranges={d: (-bound, bound) for d in dims}, initial={d: 0.0 for d in dims},
                   description=f"path integrator: d({', '.join(dims)})/dt = velocity, |v| < {speed:g}")
