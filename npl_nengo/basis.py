"""The graded monomial basis of the neural machine code (docs/method.md §2.2).

A basis of degree ``D`` in ``k`` variables lists every exponent vector ``p`` with
``|p| <= D``, ordered as the authors' ``Pd1``: by total degree, then by the largest
single exponent, then by the exponent vector in descending lexicographic order.
For k = 3 and D = 3 that is ``1, x1, x2, x3, x1x2, x1x3, x2x3, x1², x2², x3²,
x1x2x3, x1²x2, ...``.
"""

from __future__ import annotations

import itertools
from functools import cached_property
from math import comb, factorial

import numpy as np

from .errors import ValidationError

__all__ = ["MonomialBasis", "tanh_derivatives", "MAX_BASIS", "basis_size", "power_terms"]

#: Largest basis the compiler builds (number of monomials); keeps hostile degrees bounded.
MAX_BASIS = 20_000


def basis_size(n_vars: int, degree: int, where: str = "basis") -> int:
    """Number of monomials of total degree ``<= degree`` in ``n_vars`` variables, ``C(n + D, D)``.

    Raises :class:`ValidationError` above :data:`MAX_BASIS`, before anything is built.
    """
    if n_vars < 0 or degree < 0:
        raise ValidationError(f"{where}: n_vars={n_vars} and degree={degree} must be >= 0")
    size = comb(n_vars + degree, degree)
    if size > MAX_BASIS:
        raise ValidationError(
            f"{where}: {n_vars} variables at degree {degree} need {size} monomials "
            f"(more than {MAX_BASIS}); lower the degree or split the program"
        )
    return size


def power_terms(terms: int, power: int) -> int:
    """Most terms of ``(t_1 + ... + t_terms) ** power`` expanded: the multinomial count
    ``C(terms + power - 1, power)``."""
    if power == 0 or terms == 0:
        return 1
    return comb(terms + power - 1, power)


class MonomialBasis:
    """Monomials of total degree ``<= degree`` in ``n_vars`` variables.

    Attributes
    ----------
    exponents : ndarray of int, shape (K, n_vars)
        One row per monomial, in the graded order described in the module docstring.
    """

    def __init__(self, n_vars: int, degree: int):
        basis_size(n_vars, degree)
        self.n_vars = n_vars
        self.degree = degree
        # Each multiset of variables of size <= degree is one monomial: K rows, not (D+1)^k candidates.
        rows = []
        for total in range(degree + 1):
            for combo in itertools.combinations_with_replacement(range(n_vars), total):
                p = [0] * n_vars
                for i in combo:
                    p[i] += 1
                rows.append(tuple(p))
        E = np.array(rows, dtype=np.int64).reshape(len(rows), n_vars)
        # sort by total degree, then largest exponent, then exponents in descending lexicographic order
        # (np.lexsort's last key is the primary one)
        keys = [-E[:, j] for j in reversed(range(n_vars))] + [E.max(axis=1, initial=0), E.sum(axis=1)]
        self.exponents = E[np.lexsort(keys)] if n_vars else E
        self.index = {p: i for i, p in enumerate(map(tuple, self.exponents.tolist()))}

    def __len__(self) -> int:
        return len(self.exponents)

    def __repr__(self) -> str:
        return f"MonomialBasis(n_vars={self.n_vars}, degree={self.degree}, size={len(self)})"

    @cached_property
    def degrees(self) -> np.ndarray:
        """Total degree of each monomial."""
        return self.exponents.sum(axis=1)

    @cached_property
    def factorials(self) -> np.ndarray:
        """``p! = prod_i p_i!`` for each monomial."""
        table = np.array([float(factorial(k)) for k in range(self.degree + 1)])
        return np.prod(table[self.exponents], axis=1) if self.n_vars else np.ones(len(self))

    @cached_property
    def shift(self) -> np.ndarray:
        """Multiplication table: ``shift[i, j]`` is the index of ``m_i * m_j``, or -1 above the degree."""
        K = len(self)
        table = np.full((K, K), -1, dtype=np.int64)
        for i, p in enumerate(self.exponents):
            for j, q in enumerate(self.exponents):
                table[i, j] = self.index.get(tuple(int(e) for e in p + q), -1)
        return table

    def linear(self, var: int) -> int:
        """Index of the degree-1 monomial of variable ``var``."""
        return 1 + var

    def evaluate(self, x: np.ndarray) -> np.ndarray:
        """Monomial values for points ``x`` of shape (..., n_vars); returns shape (..., K)."""
        x = np.asarray(x, dtype=float)
        out = np.ones(x.shape[:-1] + (len(self),))
        for var in range(self.n_vars):
            out *= x[..., var, None] ** self.exponents[:, var]
        return out

    def multiply(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Product of two coefficient vectors, truncated to the basis degree."""
        out = np.zeros(np.broadcast_shapes(a.shape, b.shape))
        ia, ib = np.nonzero(self.shift >= 0)
        np.add.at(out.T, self.shift[ia, ib], (a[..., ia] * b[..., ib]).T)
        return out

    def powers_of(self, B: np.ndarray) -> np.ndarray:
        """``B^p / p!`` for every monomial: shape (N, K) for ``B`` of shape (N, n_vars)."""
        B = np.asarray(B, dtype=float)
        out = np.ones((B.shape[0], len(self)))
        for var in range(self.n_vars):
            out *= B[:, var, None] ** self.exponents[:, var]
        return out / self.factorials


def tanh_derivatives(x: np.ndarray, order: int) -> np.ndarray:
    """Derivatives ``tanh^(j)(x)`` for ``j = 0..order``, shape ``(order + 1,) + x.shape``.

    Uses that every derivative of tanh is a polynomial in ``t = tanh(x)``:
    ``d/dx P(t) = P'(t) (1 - t**2)``, so the result is exact up to round-off
    without symbolic differentiation.
    """
    t = np.tanh(np.asarray(x, dtype=float))
    poly = np.polynomial.Polynomial([0.0, 1.0])  # P_0(t) = t
    one_minus_t2 = np.polynomial.Polynomial([1.0, 0.0, -1.0])
    out = np.empty((order + 1,) + t.shape)
    for j in range(order + 1):
        out[j] = poly(t)
        poly = poly.deriv() * one_minus_t2
    return out
