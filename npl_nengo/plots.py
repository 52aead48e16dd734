"""Figures of a comparison report (matplotlib): outputs, spike rasters, truth tables, attractors.

Figures are ``matplotlib.figure.Figure`` objects rendered straight to PNG: pyplot
is never imported, so a user's matplotlib backend and open figures are left as
they are.

Each function draws the first seed's cells and returns the path it wrote, or
``None`` where the figure does not apply (no spiking cell, no truth table, ...).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .files import write_atomic

if TYPE_CHECKING:
    from .report import Report
    from .sweeps import SweepResult

__all__ = ["report_figures", "outputs", "spike_raster", "truth_table_figure", "attractor_figure", "sweep_figure",
           "result_figure", "colors"]

#: Longest stretch of a run the output figure shows (s).
WINDOW = 20.0
#: Units a raster shows, and the longest stretch of the run it shows (s; a shorter run: all of it).
RASTER_UNITS, RASTER_SECONDS = 30, 1.0
#: How the exact trajectory (the program's ODE, the direct guest) and the rate reference are drawn.
EXACT_STYLE = {"color": "k", "lw": 1.6, "ls": "-", "alpha": 0.55, "label": "exact", "zorder": 1}
REFERENCE_STYLE = {"color": "0.35", "lw": 1.1, "ls": "--", "label": "rate reference", "zorder": 3}


def colors(n: int) -> list:
    """``n`` distinct colours: matplotlib's default ten, ``tab20`` up to 20, then ``hsv`` steps (no repeats)."""
    import matplotlib

    if n <= 10:
        return [matplotlib.colormaps["tab10"](i) for i in range(n)]
    if n <= 20:
        # tab20's dark shades first, then the light ones: neighbours in the legend stay far apart
        order = list(range(0, 20, 2)) + list(range(1, 20, 2))
        return [matplotlib.colormaps["tab20"](order[i]) for i in range(n)]
    return [matplotlib.colormaps["hsv"](i / n) for i in range(n)]


def result_figure(result, outputs: list[str] | None = None, trial: int | None = None, ax=None):
    """:meth:`Result.plot`: the outputs of one run against time, every line of an axis in its own colour."""
    from .errors import ValidationError

    names = list(result.outputs) if outputs is None else list(outputs)
    for name in names:
        result[name]  # an unknown output: UnknownOutput naming the outputs there are
    if not names:
        raise ValidationError("Result.plot: no outputs to draw")
    batch = result.trials is not None
    if trial is not None:
        if not batch:
            raise ValidationError("Result.plot: trial= is for a batch result; this is a single run")
        result, batch = result.trial(trial), False
    groups = [names] if len(names) <= 20 or ax is not None else [names[i:i + 10] for i in range(0, len(names), 10)]
    if ax is not None and len(names) > 20:
        raise ValidationError(f"Result.plot: {len(names)} outputs do not fit one axis (at most 20); leave ax=None")
    if ax is None:
        fig, axes = subplots(len(groups), 1, figsize=(9, 3.2 * len(groups)), squeeze=False, sharex=True)
        axes = list(axes[:, 0])
    else:
        fig, axes = ax.figure, [ax]
    t = np.asarray(result.t)
    for a, group in zip(axes, groups):
        for name, color in zip(group, colors(len(group))):
            y = np.asarray(result[name])
            if batch:
                for i, row in enumerate(y):
                    a.plot(t, row, color=color, lw=0.8, alpha=0.6, label=name if i == 0 else None)
            else:
                a.plot(t, y, color=color, lw=1.0, label=name)
        a.set_ylabel("output value")
        a.grid(alpha=0.25)
        a.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0),
                 ncol=1 if len(group) <= 12 else 2)
    axes[-1].set_xlabel("time (s)")
    what = f", {result.trials} trials" if batch else ("" if result.info.get("trial") is None
                                                     else f", trial {result.info['trial']}")
    axes[0].set_title(f"{result.name} on {result.backend} ({result.neurons}{what})", fontsize="medium")
    if ax is None:
        fig.tight_layout()
    return fig


def subplots(nrows: int = 1, ncols: int = 1, figsize: tuple[float, float] | None = None, **kwargs):
    """``(figure, axes)`` like ``pyplot.subplots``, on a free-standing ``Figure`` (no pyplot state)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    return fig, fig.subplots(nrows, ncols, **kwargs)


def _save(fig, path: Path) -> Path:
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    write_atomic(path, buf.getvalue())
    return path


def _panels(n: int, width: float, height: float):
    """A figure with ``n`` small panels, up to four a row; returns it and the ``n`` axes."""
    cols = min(4, n)
    fig, axes = subplots(-(-n // cols), cols, figsize=(width * cols, height * -(-n // cols)), squeeze=False)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    return fig, list(axes.flat)[:n]


def _first_seed(report: "Report") -> int:
    return report.settings["seeds"][0]


def _label(key: tuple) -> str:
    method, _, backend, neurons = key
    return f"{backend} {method} {neurons}"


def outputs(report: "Report", path: Path) -> Path | None:
    """Every output of every cell (first seed) over the exact trajectory (black, solid: the program's ODE or
    the direct guest, with the run's inputs) and the rate reference (grey, dashed: the same network at rate level)."""
    seed = _first_seed(report)
    methods = [m for m in report.settings["methods"] if any(k[0] == m and k[1] == seed for k in report.runs)]
    if not methods:
        return None
    names = list(next(iter(report.runs.values())).outputs)[:4]
    fig, axes = subplots(len(methods), len(names), figsize=(max(6.5, 4.2 * len(names)), 0.6 + 2.8 * len(methods)),
                         squeeze=False)
    exact_all = getattr(report, "exact", {}) or {}
    for i, method in enumerate(methods):
        ref = report.references.get((method, seed))
        exact = exact_all.get((method, seed))
        cells = [(k, r) for k, r in report.runs.items() if k[0] == method and k[1] == seed]
        palette = colors(len(cells))
        for j, name in enumerate(names):
            ax = axes[i, j]
            for (key, result), color in zip(cells, palette):
                if name in result.outputs and result.trials is None:
                    keep = result.t <= WINDOW
                    ax.plot(result.t[keep], result[name][keep], lw=0.9, alpha=0.8, color=color, zorder=2,
                            label=f"{key[2]} {key[3]}")
            scale = None
            if exact is not None and name in exact.outputs:
                keep = exact.t <= WINDOW
                kick = exact.info.get("kick")
                ax.plot(exact.t[keep], exact[name][keep],
                        **{**EXACT_STYLE, **({"label": f"exact (kicked {kick:g} off an unstable start)"} if kick
                                             else {})})
                scale = exact[name][keep]
            if ref is not None and name in ref.outputs and ref.trials is None:
                keep = ref.t <= WINDOW
                ax.plot(ref.t[keep], ref[name][keep], **REFERENCE_STYLE)
                scale = ref[name][keep] if scale is None else np.concatenate([scale, ref[name][keep]])
            if scale is not None and len(scale) and np.all(np.isfinite(scale)):
                lo, hi = float(np.min(scale)), float(np.max(scale))
                pad = 0.5 * (hi - lo) or 0.1 * abs(hi) or 0.1
                ax.set_ylim(lo - pad, hi + pad)  # a diverged cell must not flatten the others
            ax.set_title(f"{method}: {name}", fontsize="small")
            ax.set_xlabel("time (s)", fontsize="small")
            ax.set_ylabel(name, fontsize="small")
        axes[i, -1].legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.02, 1.0))
    guest = any(r.info.get("exact") == "guest" for r in exact_all.values())
    fig.suptitle(f"{report.name}: outputs on every backend (seed {seed})\nexact: "
                 f"{'the direct guest simulation' if guest else 'the program ODE'}, same inputs; "
                 f"rate reference: the same network at rate level", fontsize="medium")
    fig.tight_layout()
    return _save(fig, path)


def spike_raster(report: "Report", path: Path) -> Path | None:
    """Spikes of the first units of every spiking cell (first seed), over the first :data:`RASTER_SECONDS`.

    Signed tanh units fire positive (blue) and negative (red) spikes; LIF units positive ones only."""
    seed = _first_seed(report)
    cells = [(k, r) for k, r in report.runs.items() if k[1] == seed and r.spikes is not None and r.spikes.ndim == 2]
    if not cells:
        return None
    from matplotlib.lines import Line2D

    fig, axes = _panels(len(cells), 4.8, 2.8)
    shown = 0.0
    for ax, (key, result) in zip(axes, cells):
        spikes = result.spikes
        assert spikes is not None  # cells with spikes only
        steps = min(len(spikes), int(round(RASTER_SECONDS / result.dt)))
        counts = spikes[:steps, :RASTER_UNITS]
        t = (np.arange(steps) + 1) * result.dt
        shown = max(shown, steps * result.dt)
        for sign, color in ((1, "tab:blue"), (-1, "tab:red")):
            step, unit = np.nonzero(np.sign(counts) == sign)
            ax.scatter(t[step], unit, s=2.0, c=color, marker="|", linewidths=0.4)
        ax.set(xlim=(0, steps * result.dt), ylim=(-0.5, counts.shape[1] - 0.5))
        ax.set_title(_label(key), fontsize="small")
        ax.set_xlabel("time (s)", fontsize="x-small")
        ax.set_ylabel("unit", fontsize="x-small")
    handles = [Line2D([], [], color="tab:blue", marker="|", ls="", markersize=8, label="positive spike"),
               Line2D([], [], color="tab:red", marker="|", ls="", markersize=8,
                      label="negative spike (signed tanh units: tanh < 0)")]
    fig.legend(handles=handles, loc="lower center", ncol=2, fontsize="small", frameon=False)
    fig.suptitle(f"{report.name}: spikes of the first {RASTER_UNITS} units, first {shown:g} s", fontsize="medium")
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return _save(fig, path)


def truth_table_figure(report: "Report", path: Path) -> Path | None:
    """Settled outputs per input pattern (rows) and cell (columns); wrong signs marked ✗."""
    seed = _first_seed(report)
    cells = [(k, s) for k, s in report.scores.items() if k[1] == seed and s is not None and s.metric == "truth_table"]
    if not cells:
        return None
    scored = [s for _, s in cells if s.rows]
    if not scored:
        return None
    first = scored[0].rows
    outs = [k[: -len("_expected")] for k in first[0] if k.endswith("_expected")]
    ins = [k for k, v in first[0].items() if isinstance(v, bool) and not k.endswith("_expected")]
    labels, expected = [], []
    for row in first:
        pattern = " ".join("T" if row[i] else "F" for i in ins)
        for o in outs:
            labels.append(f"{pattern} → {o}")
            expected.append(0.1 if row[f"{o}_expected"] else -0.1)
    # (cells, cases); a diverged run has no settled values: a grey row
    values = np.array([expected] + [[row[o] for row in s.rows for o in outs] if s.rows else [np.nan] * len(labels)
                                    for _, s in cells])  # the first row: the expected levels
    import matplotlib

    fig, ax = subplots(figsize=(2.6 + 0.75 * len(labels), 1.3 + 0.3 * (len(cells) + 1)))
    cmap = matplotlib.colormaps["RdBu_r"].copy()
    cmap.set_bad("0.8")
    ax.imshow(np.ma.masked_invalid(values), cmap=cmap, vmin=-0.15, vmax=0.15, aspect="auto")
    for (r, c), v in np.ndenumerate(values):
        if np.isnan(v):
            ax.text(c, r, "diverged", ha="center", va="center", fontsize=7)
            continue
        wrong = np.sign(v) != np.sign(expected[c])
        ax.text(c, r, f"{v:+.3f}" + (" ✗" if wrong else ""), ha="center", va="center", fontsize=7,
                color="k" if abs(v) < 0.1 else "w")
    ax.set_xticks(range(len(labels)), labels, fontsize=7)
    ax.set_yticks(range(len(cells) + 1), ["exact (expected level)"] + [_label(k) for k, _ in cells], fontsize=7)
    ax.axhline(0.5, color="k", lw=1.0)
    ax.set_xlabel("input pattern → output", fontsize=7)
    ax.set_title(f"{report.name}: settled outputs ({', '.join(ins)}; T = +0.1, F = −0.1; ✗ wrong sign)",
                 fontsize="small")
    fig.tight_layout()
    return _save(fig, path)


def attractor_figure(report: "Report", path: Path) -> Path | None:
    """First against last state variable of every cell (first seed), over the rate reference (grey)."""
    seed = _first_seed(report)
    cells = [(k, report.runs[k]) for k, s in report.scores.items()
             if k[1] == seed and s is not None and s.metric in ("attractor", "dram") and k in report.runs]
    if not cells:
        return None
    names = list(cells[0][1].outputs)
    a, b = names[0], names[min(2, len(names) - 1)]
    fig, axes = _panels(len(cells), 3.2, 3.0)
    exact_all = getattr(report, "exact", {}) or {}
    for ax, (key, result) in zip(axes, cells):
        exact = exact_all.get(key[:2])
        ax.plot(result[a], result[b], lw=0.4, color="tab:blue", label="this cell", zorder=1)
        ref = report.references.get(key[:2])
        if ref is not None:
            ax.plot(ref[a], ref[b], color="0.6", lw=0.3, alpha=0.7, label="rate reference", zorder=2)
        if exact is not None and a in exact.outputs and b in exact.outputs:
            ax.plot(exact[a], exact[b], color="k", lw=0.3, alpha=0.6, label="exact", zorder=3)
        ax.set_title(_label(key), fontsize="small")
        ax.set_xlabel(a, fontsize="x-small")
        ax.set_ylabel(b, fontsize="x-small")
    axes[0].legend(fontsize="xx-small", loc="upper left")
    fig.suptitle(f"{report.name}: attractor projections (blue: the cell, grey: rate reference, black: exact ODE)",
                 fontsize="medium")
    fig.tight_layout()
    return _save(fig, path)


def report_figures(report: "Report", directory: Path) -> list[Path]:
    """Every figure that applies: ``outputs.png``, ``spikes.png``, ``truth_table.png``, ``attractor.png``."""
    made = [draw(report, directory / f"{name}.png") for name, draw in
            (("outputs", outputs), ("spikes", spike_raster), ("truth_table", truth_table_figure),
             ("attractor", attractor_figure))]
    return [p for p in made if p is not None]


def sweep_figure(sweep: "SweepResult", path: Path) -> Path:
    """Median error (and truth-table accuracy, where there is one) against N, one line per method and panel."""
    import matplotlib.ticker

    summary = sweep.summary()
    # one panel per backend, neuron mode and spike rate; NEF (no max rate: nengo's LIF rates) joins every
    # panel of its backend and mode, so that the three compilers share axes
    panels = list(dict.fromkeys((g["backend"], g["mode"], g["max_rate"]) for g in summary
                                if g["max_rate"] is not None or g["method"] != "nef"))
    panels += list(dict.fromkeys((g["backend"], g["mode"], None) for g in summary
                                 if not any(p[:2] == (g["backend"], g["mode"]) for p in panels)))
    has_acc = any(g["accuracy"] is not None for g in summary)
    flagged = False
    edge = [False] * len(panels)  # panels with a cell drawn on the top edge
    fig, axes = subplots(2 if has_acc else 1, len(panels), figsize=(4.2 * len(panels), 3.3 * (1 + has_acc)),
                             squeeze=False)
    for j, (backend, mode, max_rate) in enumerate(panels):
        for method in dict.fromkeys(g["method"] for g in summary):
            gs = [g for g in summary if (g["backend"], g["mode"], g["method"]) == (backend, mode, method)
                  and (g["max_rate"] == max_rate or method == "nef")]
            if not gs:
                continue
            n = [g["N"] for g in gs]
            label = f"{method} ({gs[0]['neurons']})" if gs[0]["neurons"] != mode else method
            err = np.array([g["median_error"] for g in gs], dtype=float)
            line, = axes[0, j].plot(n, np.where(np.isfinite(err), err, np.nan), "o-", label=label)
            # a median error that is infinite (diverged) or missing (every trial raised) sits on the top edge
            top = axes[0, j].get_xaxis_transform()
            for x, e in zip(n, err):
                if not np.isfinite(e):
                    marker, word = ("^", "inf") if np.isinf(e) else ("x", "error")
                    axes[0, j].plot([x], [0.97], marker, color=line.get_color(), transform=top, clip_on=False,
                                    markersize=8)
                    axes[0, j].annotate(word, (x, 0.97), xycoords=top, textcoords="offset points", xytext=(0, -11),
                                        ha="center", fontsize="x-small", color=line.get_color())
                    flagged = edge[j] = True
            tols = {r["tol"] for r in sweep.rows if (r["backend"], r["mode"], r["method"]) == (backend, mode, method)
                    and (r["max_rate"] == max_rate or method == "nef") and r["tol"] is not None}
            if len(tols) == 1:
                tol = float(next(iter(tols)))
                axes[0, j].axhline(tol, color=line.get_color(), ls=":", lw=1.2, label=f"tol {method} ({tol:g})")
            if has_acc:
                axes[1, j].plot(n, [g["accuracy"] if g["accuracy"] is not None else math.nan for g in gs], "o-",
                                label=label)
        rate = "" if max_rate is None else f", {max_rate:g} Hz"
        axes[0, j].set(xscale="log", yscale="log", title=f"{backend}, {mode}{rate}", ylabel="median error")
        if edge[j]:  # headroom: the top-edge markers sit above every measured error
            lo, hi = axes[0, j].get_ylim()
            axes[0, j].set_ylim(lo, hi * (hi / lo) ** 0.25)
        if has_acc:
            axes[1, j].set(xscale="log", ylim=(-0.05, 1.05), xlabel="neurons N", ylabel="truth-table accuracy")
        else:
            axes[0, j].set_xlabel("neurons N")
        for ax in axes[:, j]:
            ax.set_xticks(sorted({g["N"] for g in summary}))
            ax.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
            ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        axes[0, j].legend(fontsize="small")
    fig.suptitle(f"{sweep.network}: sweep over N (dotted: each method's tolerance)", fontsize="medium")
    if flagged:
        fig.text(0.5, 0.005, "top edge: ▲ inf = the median trial diverged (infinite error),\n"
                 "× error = every trial raised (no error measured)", ha="center", va="bottom", fontsize="small")
        fig.tight_layout(rect=(0, 0.09, 1, 1))
    else:
        fig.tight_layout()
    return _save(fig, path)
