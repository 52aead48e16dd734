"""Virtualization error against guest size and expansion order (docs/method.md §4.4).

An experiment on the library's guest-RNN program (:mod:`npl_nengo.networks.virtual`),
not a library entry: random guests of growing size are Taylor-expanded to each
order, compiled and run, and :func:`~npl_nengo.networks.virtual.virtualization`
splits each run's error into truncation (the polynomial program against the true
guest) and compile/backend (the host against its own program).
"""

from __future__ import annotations

import time
from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import ValidationError
from ..networks.virtual import ORDERS, _count, random_guest, sine_drive, virtualization

__all__ = ["virtualization_sweep"]


def _mean(details: list[dict], key: str) -> float:
    return float(np.mean([d[key] for d in details]))


def virtualization_sweep(
    sizes: Sequence[int] = (1, 2, 3, 4, 6),
    orders: Sequence[int] = ORDERS,
    seeds: Sequence[int] = (0, 1, 2),
    duration: float = 2.0,
    m: int = 1,
    guest_options: Mapping[str, Any] | None = None,
    compile_options: Mapping[str, Any] | None = None,
    **run_options: Any,
) -> list[dict]:
    """Error against guest size and expansion order.

    For every ``n`` in ``sizes`` and every seed, a random guest
    (:func:`random_guest`) is driven by :func:`sine_drive` (same seed); for
    every order its program is compiled (default taylor, ``N = 2 K``) and run
    (``run_options``: backend, neurons, ...).

    Returns
    -------
    list of dict
        One row per ``(n_guest, order)``: ``K, N``, ``nrmse`` (host vs guest, mean
        over seeds) and ``nrmse_max`` (worst seed), ``truncation_nrmse`` (mean),
        ``compile_nrmse`` (worst seed), ``map_nrmse`` (mean; the lagging
        open-loop maps), ``weight_norm`` (mean ``||W||_F``), ``max_z`` (mean of the
        largest tanh-argument deviation), ``seconds`` (total).
    """
    where = "virtualization_sweep"
    sizes = [_count(n, "sizes", where) for n in sizes]
    seeds = [_count(sd, "seeds", where, low=0) for sd in seeds]
    if not sizes or not seeds or not list(orders):
        raise ValidationError(f"{where}: sizes, orders and seeds must not be empty")
    for order in orders:
        if isinstance(order, bool) or order not in ORDERS:
            raise ValidationError(f"{where}: orders must be among {ORDERS}, got {order!r}")
    rows = []
    for n in sizes:
        guests = [(random_guest(n, m=m, seed=sd, **dict(guest_options or {})), sine_drive(m, seed=sd)) for sd in seeds]
        for order in orders:
            start = time.perf_counter()
            details = [virtualization(g, order, duration=duration, drive=drive, compile_options=compile_options,
                                      **run_options).details for g, drive in guests]
            rows.append({"n_guest": n, "order": order, "K": details[0]["K"], "N": details[0]["N"],
                         "nrmse": _mean(details, "nrmse"), "nrmse_max": max(d["nrmse"] for d in details),
                         "truncation_nrmse": _mean(details, "truncation_nrmse"),
                         "compile_nrmse": max(d["compile_nrmse"] for d in details),
                         "map_nrmse": _mean(details, "map_nrmse"), "weight_norm": _mean(details, "weight_norm"),
                         "max_z": _mean(details, "max_z"), "seconds": time.perf_counter() - start})
    return rows
