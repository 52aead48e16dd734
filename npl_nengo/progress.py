"""Progress of a run: the ``progress`` option every backend takes.

``npl_nengo.run(..., progress=report)`` calls ``report(done, total)`` with the
steps simulated so far and the run's steps, from the simulating thread, as the
run advances (at least once at the end of a run that finishes).  It only
observes: a run with it gives the same numbers as one without
(``tests/test_progress.py``).  Each backend uses its simulator's own hook where
it has one: nengo's progress bar (:class:`nengo.utils.progress.ProgressBar`),
Brian2's ``report`` callback (runtime targets; ``cpp_standalone`` runs its
binary whole, so it reports the start and the end only), NengoDL's steps run in
chunks, the reference backend's input chunks.

:func:`tqdm_bar` is the callback the CLI draws (``npl-nengo run --progress``).
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any, Callable

from .errors import ValidationError

__all__ = ["Progress", "check", "tqdm_bar"]

#: ``progress(done, total)``: steps simulated so far, steps of the run.
Progress = Callable[[int, int], None]

#: Seconds of wall time between reports from a simulator that reports by time (Brian2).
PERIOD = 0.2


def check(progress: Any, where: str) -> Progress | None:
    """``progress`` if it is None or callable; a :class:`ValidationError` naming ``where`` otherwise."""
    if progress is not None and not callable(progress):
        raise ValidationError(f"{where}: progress must be a function progress(done, total) or None, "
                              f"got {type(progress).__name__}")
    return progress


class Throttled:
    """``progress`` called at most every :data:`PERIOD` seconds, and always for the last step.

    For backends that could report every step: a Python call per step would
    cost more than a small network's step.
    """

    def __init__(self, progress: Progress, total: int) -> None:
        self.progress, self.total, self.last = progress, int(total), -float("inf")

    def __call__(self, done: int) -> None:
        now = time.perf_counter()
        if done >= self.total or now - self.last >= PERIOD:
            self.last = now
            self.progress(int(done), self.total)


def nengo_bar(progress: Progress) -> Any:
    """A :class:`nengo.utils.progress.ProgressBar` that passes nengo's steps to ``progress``.

    Given to ``Simulator.run_steps(progress_bar=...)``: nengo's own updater decides
    how often (every 0.05 s of wall time by default) and reports the last step.
    """
    from nengo.utils.progress import ProgressBar

    class Bar(ProgressBar):
        def update(self, p: Any) -> None:
            if p.max_steps:
                progress(int(p.n_steps), int(p.max_steps))

        def close(self) -> None:
            pass

    return Bar()


def tqdm_bar(description: str = "run", file: Any = None) -> Any:
    """A ``progress(done, total)`` that draws a tqdm bar of steps (on stderr); ``.close()`` it after the run.

    Thread-safe: a backend may report from its simulating thread.
    """
    from tqdm import tqdm

    lock = threading.Lock()
    bars: list[Any] = []

    def report(done: int, total: int) -> None:
        with lock:
            if not bars:
                bars.append(tqdm(total=total, desc=description, unit="step", leave=False,
                                 file=file if file is not None else sys.stderr))
            bars[0].n = min(done, total)
            bars[0].refresh()

    def close() -> None:
        with lock:
            for bar in bars:
                bar.close()
            bars.clear()

    report.close = close  # type: ignore[attr-defined]
    return report
