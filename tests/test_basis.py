"""docs/method.md §8 check 2: the graded monomial basis and its shift table."""

import itertools

import numpy as np
import pytest
import sympy

from npl_nengo.basis import MonomialBasis, tanh_derivatives
from npl_nengo.errors import ValidationError


def test_k3_degree3_order_matches_authors():
    b = MonomialBasis(3, 3)
    expected = [
        (0, 0, 0), (1, 0, 0), (0, 1, 0), (0, 0, 1),
        (1, 1, 0), (1, 0, 1), (0, 1, 1), (2, 0, 0), (0, 2, 0), (0, 0, 2),
        (1, 1, 1), (2, 1, 0), (2, 0, 1), (1, 2, 0), (1, 0, 2), (0, 2, 1), (0, 1, 2),
        (3, 0, 0), (0, 3, 0), (0, 0, 3),
    ]
    assert len(b) == 20
    assert [tuple(p) for p in b.exponents] == expected


@pytest.mark.parametrize("k,D", [(1, 3), (2, 4), (3, 3), (4, 2)])
def test_shift_table_multiplies_monomials(k, D):
    b = MonomialBasis(k, D)
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=k)
    m = b.evaluate(x)
    for i, j in itertools.product(range(len(b)), repeat=2):
        s = b.shift[i, j]
        if b.degrees[i] + b.degrees[j] <= D:
            assert s >= 0
            assert m[s] == pytest.approx(m[i] * m[j], rel=1e-12)
        else:
            assert s == -1


def test_multiply_truncates_coefficient_vectors():
    b = MonomialBasis(2, 3)
    x1 = np.zeros(len(b)); x1[b.linear(0)] = 1.0
    one_plus_x2 = np.zeros(len(b)); one_plus_x2[0] = 1.0; one_plus_x2[b.linear(1)] = 1.0
    prod = b.multiply(x1, one_plus_x2)  # x1 + x1 x2
    assert prod[b.index[(1, 0)]] == 1.0 and prod[b.index[(1, 1)]] == 1.0
    assert np.count_nonzero(prod) == 2


def test_tanh_derivatives_match_sympy():
    x = sympy.Symbol("x")
    points = np.array([-0.7, 0.0, 0.3])
    ours = tanh_derivatives(points, 5)
    for j in range(6):
        f = sympy.lambdify(x, sympy.diff(sympy.tanh(x), x, j))
        np.testing.assert_allclose(ours[j], [float(f(p)) for p in points], rtol=1e-12, atol=1e-14)


def test_huge_basis_is_refused():
    with pytest.raises(ValidationError, match="monomials"):
        MonomialBasis(40, 12)
