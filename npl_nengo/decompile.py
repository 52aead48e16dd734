"""Decompilation: the neural machine code of a tanh reservoir (docs/method.md §2).

A reservoir ``dr/dt = gamma (-r + tanh(A r + B x + d))`` with operating point
``r*`` (so ``d = atanh(r*) - A r*`` for ``x* = 0``) is expanded in a Taylor
basis of its inputs.  Two codes exist:

* the **dNPL** code :func:`drive_code`: the Taylor coefficients of the drive
  ``tanh(B x + d)`` (exact for ``A = 0``), which closed-loop programs are
  compiled against, and
* the **static / sNPL** code :func:`decompile`: ``C1`` is the equilibrium state
  as a polynomial in ``x`` (first order in ``A``), ``C2`` the coefficients of
  ``x^p * dx_j/dt``, the lag of the reservoir behind its input, used by
  open-loop programs such as the rotation demo.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.sparse

from .basis import MonomialBasis, tanh_derivatives
from .errors import ValidationError

__all__ = ["MachineCode", "decompile", "drive_code", "bias_for", "spectral_radius", "with_spectral_radius"]


def spectral_radius(A) -> float:
    """Largest ``|eigenvalue|`` of the square matrix ``A``: over every eigenvalue of a dense
    array, ARPACK's largest-magnitude one of a scipy.sparse matrix."""
    if scipy.sparse.issparse(A):
        from scipy.sparse.linalg import eigs

        return float(abs(eigs(A, k=1, which="LM", return_eigenvectors=False)[0]))
    return float(np.max(np.abs(np.linalg.eigvals(A))))


def with_spectral_radius(A, radius: float):
    """``A * (radius / spectral_radius(A))``: ``A`` (dense or scipy.sparse) rescaled to spectral radius ``radius``.

    A nilpotent ``A`` (spectral radius 0) has no such rescaling unless ``radius`` is 0
    (then ``0 * A``): :class:`~npl_nengo.errors.ValidationError`.
    """
    rho = spectral_radius(A)
    if rho == 0.0:
        if radius == 0:
            return A * 0.0
        raise ValidationError(f"with_spectral_radius: A is nilpotent (spectral radius 0), no factor makes it {radius}")
    return A * (radius / rho)


def bias_for(r_star: np.ndarray, A=None, B: np.ndarray | None = None, x_star: np.ndarray | None = None) -> np.ndarray:
    """Bias ``d = atanh(r*) - A r* - B x*`` that makes ``(r*, x*)`` a fixed point."""
    r_star = np.asarray(r_star, dtype=float)
    if np.any(np.abs(r_star) >= 1):
        raise ValidationError("bias_for: every r* must lie in (-1, 1)")
    d = np.arctanh(r_star)
    if A is not None:
        d = d - A @ r_star
    if B is not None and x_star is not None:
        d = d - np.asarray(B) @ np.asarray(x_star, dtype=float)
    return d


def drive_code(B: np.ndarray, d: np.ndarray, basis: MonomialBasis) -> np.ndarray:
    """dNPL code: Taylor coefficients of ``tanh(B x + d)`` in ``basis``, shape (N, K).

    ``R[:, p] = tanh^(|p|)(d) * B^p / p!`` (the authors' ``gen_basis``, exact to the
    basis degree).
    """
    derivs = tanh_derivatives(d, basis.degree)  # (D+1, N)
    return derivs[basis.degrees].T * basis.powers_of(B)


@dataclass(frozen=True)
class MachineCode:
    """The decompiled code of a reservoir.

    Attributes
    ----------
    basis
        The monomial basis over the reservoir's inputs.
    C1
        (N, K): equilibrium state as a polynomial in the inputs (column 0 is ``r*``).
    C2
        (N, K, k) or None: coefficient of ``x^p * dx_j/dt`` (the reservoir's lag).
    """

    basis: MonomialBasis
    C1: np.ndarray
    C2: np.ndarray | None

    def snpl(self) -> np.ndarray:
        """The sNPL matrix ``[C1, C2 (x dx_1), C2 (x dx_2), ...]`` of shape (N, K (1 + k))."""
        if self.C2 is None:
            return self.C1
        N, K, k = self.C2.shape
        return np.concatenate([self.C1, self.C2.transpose(0, 2, 1).reshape(N, K * k)], axis=1)


def decompile(
    B: np.ndarray,
    r_star: np.ndarray,
    A=None,
    gamma: float = 100.0,
    degree: int = 2,
    derivatives: bool = True,
) -> MachineCode:
    """Decompile a reservoir into its static (C1) and time-derivative (C2) code.

    Implements the authors' ``decomp_poly1_ns`` / ``decomp_poly4_ns`` (first and
    second outputs) around the operating point ``(r*, x* = 0)``:
    ``A_s = diag(g'(dv)) A - I``, ``DD_j = g^(j) * (A r*) - g^(j-1)``,
    ``C1[:, p] = A_s^-1 (DD_{|p|+1} * B^p / p!)``,
    ``C2[:, p, j] = A_s^-2 (DD_{|p|+2} * B^p / p! * B[:, j]) / gamma``: the
    elementwise product with ``B[:, j]`` comes before both factors of
    ``A_s^-1``, as in the authors' code.  Equivalently ``C2[:, :, j]`` is
    ``A_s^-1 / gamma`` times the coefficients of ``d(C1 m(x))/dx_j`` (``C1``
    taken one degree higher), the adiabatic lag of the state behind ``dx_j/dt``.
    Exact for ``A = 0``; first order in ``A`` otherwise.

    Parameters
    ----------
    B
        (N, k) input matrix.
    r_star
        (N,) operating point; the bias is ``atanh(r*) - A r*``.
    A
        (N, N) recurrent matrix (dense or scipy.sparse), or None for zero.
    gamma
        Rate constant (1/s).
    degree
        Largest total degree of the basis.
    derivatives
        Also compute ``C2``.
    """
    B = np.atleast_2d(np.asarray(B, dtype=float))
    r_star = np.asarray(r_star, dtype=float)
    N, k = B.shape
    if r_star.shape != (N,):
        raise ValidationError(f"decompile: r_star has shape {r_star.shape}, expected ({N},)")
    basis = MonomialBasis(k, degree)
    dv = np.arctanh(r_star)  # the effective operating point A r* + B x* + d
    g = tanh_derivatives(dv, degree + 2)  # (degree + 3, N)
    Ar = np.zeros(N) if A is None else np.asarray(A @ r_star).ravel()
    DD = [None] + [g[j] * Ar - g[j - 1] for j in range(1, degree + 3)]
    powers = basis.powers_of(B)  # B^p / p!
    if A is None:
        solve = lambda rhs: -rhs  # noqa: E731  (A_s = -I)
    else:
        As = (A.toarray() if hasattr(A, "toarray") else np.asarray(A)) * g[1][:, None] - np.eye(N)
        lu = scipy.linalg.lu_factor(As)
        solve = lambda rhs: scipy.linalg.lu_solve(lu, rhs)  # noqa: E731
    dd1 = np.stack([DD[n + 1] for n in basis.degrees], axis=1)
    C1 = solve(dd1 * powers)
    C2 = None
    if derivatives:
        cm2 = np.stack([DD[n + 2] for n in basis.degrees], axis=1) * powers  # (N, K)
        # the product with B[:, j] first, then A_s^-1 twice (the authors' A_s^-2 (CM2 * B_j))
        C2 = np.stack([solve(solve(cm2 * B[:, j, None])) / gamma for j in range(k)], axis=2)
    return MachineCode(basis, C1, C2)
