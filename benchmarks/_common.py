"""Helpers shared by the benchmark scripts: machine description, tables, JSON output.

Not a benchmark itself; the scripts in this folder import it (they run as
``.venv/bin/python benchmarks/<script>.py``, which puts this folder on ``sys.path``).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any, Sequence

import numpy as np

import npl_nengo

RESULTS = Path(__file__).resolve().parent / "results"
#: The backend settings the all-backend scripts (throughput, peak_memory, long_run) measure, and their labels.
BACKENDS = {
    "reference": {},  # rk4 for rate units (default)
    "nengo": {"synapse": "zoh"},
    "nengo_dl": {"device": "/cpu:0", "dtype": "float32"},
    "brian2": {"target": "cython"},
}
LABELS = {
    "reference": "reference (numpy, RK4)",
    "nengo": "nengo (zoh)",
    "nengo_dl": "nengo_dl (CPU, float32)",
    "brian2": "brian2 (cython)",
}
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).resolve().parent,
                             capture_output=True, text=True, timeout=10, check=True)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    uname = platform.uname()
    return {
        "processor": platform.processor(),
        "cpu_model": _cpu_model(),
        "uname": f"{uname.system} {uname.release} {uname.machine}",
        "platform": platform.platform(),
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "npl_nengo": npl_nengo.__version__,
        "thread_env": {k: os.environ.get(k) for k in _THREAD_VARS},
        "git_commit": _git_commit(),
    }


def describe_machine(m: dict[str, Any]) -> str:
    """One line for the top of a printed report."""
    return (f"{m['cpu_model']} | nproc {m['nproc']} | {m['uname']} | Python {m['python']} | "
            f"numpy {m['numpy']} | npl_nengo {m['npl_nengo']}")


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table (right-aligned columns)."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    line = lambda items: "| " + " | ".join(s.rjust(w) for s, w in zip(items, widths)) + " |"  # noqa: E731
    sep = "|" + "|".join("-" * (w + 1) + ":" for w in widths) + "|"
    return "\n".join([line(headers), sep, *(line(r) for r in cells)])


def write_json(script: str, quick: bool, payload: dict[str, Any]) -> Path:
    """Write ``payload`` (plus machine and timestamp) to ``results/<script>[.quick].json``."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / (f"{script}.quick.json" if quick else f"{script}.json")
    doc = {
        "script": script,
        "quick": quick,
        "timestamp": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "argv": sys.argv[1:],
        "machine": machine(),
        **payload,
    }
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(doc, indent=2) + "\n")
    tmp.replace(path)
    return path
