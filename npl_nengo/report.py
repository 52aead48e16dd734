"""Report: what :func:`npl_nengo.compare` returns, written as Markdown, CSV, JSON and PNG.

A report holds one row per cell (compiler method, seed, backend, neuron mode)
and, in memory, the runs behind them (for the plots).  ``report.save(dir)``
writes ``report.md``, ``report.csv``, ``report.json`` and the PNG figures of
:mod:`npl_nengo.plots` into a directory of its own (new, empty, or an earlier
report's), claimed against other writers for the time it writes; each file is
written into a staging folder and renamed into place, so an interrupted save
never leaves half a file (:func:`npl_nengo.files.claim_directory`).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ContextManager

from .cells import Row
from .files import DirectoryClaim, claim_directory, jsonable, write_atomic
from .result import Result

__all__ = ["Report"]

#: Columns of the CSV file and the console table, in order.
COLUMNS = ("backend", "method", "neurons", "seed", "N", "weight_norm", "result", "passed", "counted", "error", "tol",
           "statistic", "deviation", "spike_rate", "wall_s", "run_s", "compile_s", "message")
FILES = ("report.md", "report.csv", "report.json")
#: The figures a report may hold (:func:`npl_nengo.plots.report_figures`).
FIGURES = ("outputs.png", "spikes.png", "truth_table.png", "attractor.png")
GENERATOR = "npl_nengo.compare"


def _short(message: str) -> str:
    """A message cut for a table cell (the files keep it whole)."""
    message = message.split(", more than ")[0]  # a divergence: output, value and time are the news
    return message if len(message) <= 90 else message[:89] + "…"


def _num(value: Any, fmt: str = ".3g") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float):
        return format(value, fmt)
    return str(value)


@dataclass(eq=False)
class Report:
    """A backend comparison.

    Attributes
    ----------
    name, description
        The network.
    rows
        One :class:`~npl_nengo.cells.Row` per cell (read as a mapping, ``row["error"]``, or by
        attribute): ``backend, method, neurons, seed, N, weight_norm``
        (‖W‖, NaN for NEF), ``result`` (``PASS``/``FAIL``/``ERROR``, or ``RAN``
        without a metric), ``passed``, ``error`` (the metric's), ``tol`` (its
        level tolerance; ``None`` where the metric uses its own set),
        ``deviation`` (RMS difference from the rate reference over the
        output's declared range, worst output), ``deviation_by_output``
        (absolute RMS per output), ``spike_rate`` (Hz, mean over the recorded
        units; ``None`` at rate level), ``wall_s`` (the cell: build, run,
        scoring), ``run_s`` (the simulation alone), ``compile_s``, ``message``.
    settings
        The arguments of the comparison.
    runs, scores, references, exact
        In memory only: each cell's Result and Score keyed by
        ``(method, seed, backend, neurons)``, the rate reference's Result
        per ``(method, seed)``, and the exact trajectory per ``(method, seed)``
        (the program's own ODE, or the direct guest simulation, with the
        inputs the cells ran; ``backend="exact"``), where there is one.
    """

    name: str
    description: str
    rows: list[Row]
    settings: dict
    runs: dict[tuple, Result] = field(default_factory=dict, repr=False)
    scores: dict[tuple, Any] = field(default_factory=dict, repr=False)
    references: dict[tuple, Result] = field(default_factory=dict, repr=False)
    exact: dict[tuple, Result] = field(default_factory=dict, repr=False)

    @property
    def passed(self) -> bool:
        """Whether every counted scored cell passed.

        Cells without a metric do not count, nor cells outside a library entry's
        recommended compile (e.g. the paper's min-norm weights under spikes)."""
        return all(r["passed"] for r in self.rows if r["passed"] is not None and r.get("counted", True))

    def _verdict(self) -> str:
        counted = [r for r in self.failed if r.get("counted", True)]
        extra = len(self.failed) - len(counted)
        note = f" ({extra} outside the recommended compile failed, marked *)" if extra else ""
        if not counted:
            return "every counted scored cell passed" + note
        return f"{len(counted)} of {len(self.rows)} cells failed" + note

    @property
    def failed(self) -> list[Row]:
        """Rows that failed their metric or raised an error."""
        return [r for r in self.rows if r["result"] in ("FAIL", "ERROR")]

    def summary(self) -> list[dict]:
        """Rows aggregated over seeds: runs, passes and medians per (backend, method, neurons)."""
        groups: dict[tuple, list[Row]] = {}
        for r in self.rows:
            groups.setdefault((r["backend"], r["method"], r["neurons"]), []).append(r)

        def median(rows: list[Row], key: str) -> float:
            values = [r[key] for r in rows if isinstance(r[key], (int, float)) and math.isfinite(r[key])]
            return statistics.median(values) if values else float("nan")

        return [{"backend": b, "method": m, "neurons": n, "runs": len(rs),
                 "passed": sum(bool(r["passed"]) for r in rs), "error": median(rs, "error"),
                 "deviation": median(rs, "deviation"),
                 "spike_rate": median([r for r in rs if r["spike_rate"] is not None], "spike_rate"),
                 "wall_s": median(rs, "wall_s")} for (b, m, n), rs in groups.items()]

    def period(self, row: Row) -> float | None:
        """The period (s) the oscillation metric measured for a row's cell (NaN: none found); ``None`` where the
        metric measures no period."""
        score = self.scores.get((row["method"], row["seed"], row["backend"], row["neurons"]))
        value = None if score is None else score.details.get("period")
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    def _periods(self) -> bool:
        """Whether any cell measured a period (the table, CSV and JSON then have a ``period`` column)."""
        return any(self.period(r) is not None for r in self.rows)

    # -- text ---------------------------------------------------------------------------------
    def _cells(self) -> tuple[list[str], list[list[str]]]:
        many = len(self.settings.get("seeds", [0])) > 1
        periods = self._periods()
        head = ["backend", "method", "neurons", *(["seed"] if many else []), "N", "||W||", "error", "tol", "dev",
                *(["period s"] if periods else []), "spikes Hz", "wall s", "decided by", "result"]
        body = []
        for r in self.rows:
            tol = _num(r["tol"])
            body.append([r["backend"], r["method"], r["neurons"], *([str(r["seed"])] if many else []), _num(r["N"]),
                         _num(r["weight_norm"]), _num(r["error"]), tol, _num(r["deviation"]),
                         *([_num(self.period(r), ".4g")] if periods else []),
                         _num(r["spike_rate"], ".0f"), _num(r["wall_s"], ".2f"), r.get("statistic", ""),
                         r["result"] + ("" if r.get("counted", True) else "*")
                         + (f" ({_short(r['message'])})" if r["message"] else "")])
        return head, body

    def table(self) -> str:
        """The rows as a fixed-width text table (what ``npl-nengo compare`` prints)."""
        head, body = self._cells()
        widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(head[:-1])]
        left = {0, 1, 2}
        fmt = lambda cells: "  ".join(c.ljust(w) if i in left else c.rjust(w)  # noqa: E731
                                      for i, (c, w) in enumerate(zip(cells, widths))) + "  " + cells[-1]
        return "\n".join([f"{self.name}: {self.description}", fmt(head), *(fmt(b) for b in body)])

    def to_markdown(self, figures: list[str] | None = None) -> str:
        """The report as Markdown: settings, the table, the seed summary, the figures."""
        s = self.settings
        lines = [f"# {self.name}: backend comparison", "", self.description, "",
                 f"- backends: {', '.join(s['backends'])}; neurons: {', '.join(s['neurons'])}; "
                 f"methods: {', '.join(s['methods'])}; seeds: {', '.join(map(str, s['seeds']))}",
                 f"- N: {s['n_neurons'] or 'compiler default'}; max_rate {s['max_rate']:g} Hz; dt {s['dt']:g} s; "
                 f"metric: {s['metric'] or 'none (deviation only)'}",
                 f"- verdict: {self._verdict()}",
                 ""]
        head, body = self._cells()
        lines += ["| " + " | ".join(h.replace("|", "\\|") for h in head) + " |", "|" + "|".join("---" for _ in head) + "|"]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in b) + " |" for b in body]
        lines += ["", "Columns: *error* is the metric's own error and *tol* its tolerance (\"–\": the metric's set "
                  "of tolerances); *decided by* names the statistic that decided the verdict (also the CSV/JSON column "
                  "`statistic`); *period s* (oscillators) is the measured period; a result marked * is "
                  "outside the library entry's recommended compile (e.g. the paper's min-norm weights, or spikes "
                  "where the entry is known not to pass) and does not count for the verdict or `--check`; "
                  "*dev* is the RMS difference from the rate reference (the same network at rate "
                  "level on the numpy reference backend; NEF: rate neurons on nengo) over the output's declared "
                  "range, worst output; *spikes Hz* is the mean rate of the recorded units; *wall s* is the whole "
                  "cell (build, run, scoring)."]
        if len(s.get("seeds", [0])) > 1:
            lines += ["", "## Over seeds", "", "| backend | method | neurons | passed | median error | median dev |",
                      "|---|---|---|---|---|---|"]
            lines += [f"| {g['backend']} | {g['method']} | {g['neurons']} | {g['passed']}/{g['runs']} | "
                      f"{_num(g['error'])} | {_num(g['deviation'])} |" for g in self.summary()]
        if figures:
            lines += ["", "## Figures", ""] + [f"![{Path(f).stem}]({f})" for f in figures]
        return "\n".join(lines) + "\n"

    def to_csv(self) -> str:
        """One line per cell, :data:`COLUMNS` (``statistic``: what decided the verdict), ``period`` (s; where the
        metric measures one, e.g. oscillators), then ``dev_<output>`` (absolute RMS per output)."""
        outputs = list(dict.fromkeys(k for r in self.rows for k in r["deviation_by_output"]))
        periods = self._periods()
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow([*COLUMNS, *(["period"] if periods else []), *(f"dev_{o}" for o in outputs)])
        for r in self.rows:
            period = self.period(r)
            writer.writerow([("" if r[c] is None else r[c]) for c in COLUMNS]
                            + ([("" if period is None else period)] if periods else [])
                            + [r["deviation_by_output"].get(o, "") for o in outputs])
        return buf.getvalue()

    def to_dict(self) -> dict:
        """JSON-ready: network, settings, verdict, rows (each with ``statistic``, what decided its verdict, and
        ``period`` in s where the metric measures one), seed summary."""
        periods = self._periods()
        rows = [{**r.to_dict(), **({"period": self.period(r)} if periods else {})} for r in self.rows]
        return jsonable({"generator": GENERATOR, "network": self.name, "description": self.description,
                          "settings": self.settings,
                          "passed": self.passed, "rows": rows, "summary": self.summary()})

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, allow_nan=False)

    # -- files --------------------------------------------------------------------------------
    def plot(self, directory: str | os.PathLike) -> list[Path]:
        """Write the PNG figures that apply to this report into ``directory``; returns their paths."""
        from . import plots

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        return plots.report_figures(self, directory)

    def save(self, directory: str | os.PathLike, overwrite: bool = False) -> dict[str, Path]:
        """Write ``report.md``, ``report.csv``, ``report.json`` and the figures into ``directory``.

        The directory is the report's own: it is created if missing, and must
        be empty or hold an earlier comparison's report (replaced); another
        process saving there at the same time gets an error.  ``overwrite``
        adds the report to a directory that holds other files (they are left
        alone; a file of theirs that a report file replaces is kept as
        ``NAME.orig``), and waits for another writer to finish instead of
        failing.  Failures are :class:`~npl_nengo.SaveError` (a
        :class:`ValidationError`) naming the path.
        """
        with self.claim(directory, overwrite) as claim:
            staging = claim.staging()
            figures = self.plot(staging)
            write_atomic(staging / "report.json", self.to_json())
            write_atomic(staging / "report.csv", self.to_csv())
            write_atomic(staging / "report.md", self.to_markdown([f.name for f in figures]))
            written = claim.commit(["report.json", "report.csv", *(f.name for f in figures), "report.md"])
        return {"markdown": written["report.md"], "csv": written["report.csv"], "json": written["report.json"],
                **{Path(name).stem: written[name] for name in (f.name for f in figures)}}

    @staticmethod
    def claim(directory: str | os.PathLike, overwrite: bool = False) -> ContextManager[DirectoryClaim]:
        """Hold ``directory`` for a report until the ``with`` block ends (what :meth:`save` does while it writes).

        A command that will save a comparison can claim its directory before
        running it: a second command aimed at the same directory then fails at
        once, and :meth:`save` inside the block shares the claim.
        """
        return claim_directory(directory, FILES + FIGURES, GENERATOR, overwrite, "report")

    def _repr_markdown_(self) -> str:  # Jupyter
        return self.to_markdown()

    def __repr__(self) -> str:
        return (f"Report({self.name!r}, {len(self.rows)} cells, "
                f"{'passed' if self.passed else f'{len(self.failed)} failed'})")
