"""The results table of a conformance run (terminal and ``--conformance-report``)."""

from __future__ import annotations

import datetime
import platform
from collections import Counter
from typing import Any, Mapping

__all__ = ["table", "short"]

_ORDER = ("passed", "xfailed", "xpassed", "skipped", "failed", "error")


def table(simulator: Any, results: Mapping[str, tuple[str, str]], full: bool = False) -> str:
    """A Markdown table of ``{nodeid: (outcome, detail)}``: one row per test, then the counts."""
    from .._version import __version__

    counts = Counter(outcome for outcome, _ in results.values())
    head = [f"Simulator under test: `{simulator.label}` (backend `{simulator.backend}`), "
            f"{'full set' if full else 'quick subset'}; npl_nengo {__version__}, Python {platform.python_version()}, "
            f"{datetime.date.today().isoformat()}.",
            "",
            "Totals: " + ", ".join(f"{counts[k]} {k}" for k in _ORDER if counts[k]) + ".",
            "",
            "| test | outcome | reason / failure |",
            "|---|---|---|"]
    rows = [f"| `{short(nodeid)}` | {outcome} | {detail.replace('|', chr(92) + '|')} |"
            for nodeid, (outcome, detail) in results.items()]
    return "\n".join(head + rows)


def short(nodeid: str) -> str:
    """``test_probes.py::test_spike_counts[lif]`` from a node id with any path in front."""
    return nodeid.rsplit("/", 1)[-1]
