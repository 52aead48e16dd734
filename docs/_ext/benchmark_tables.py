"""Sphinx extension: the benchmark data page, generated from ``benchmarks/results/*.json`` at build time.

Every result file the benchmark scripts wrote becomes one section of
``docs/_generated/benchmark-data.md``: where and when it was measured, the
settings, and each list of measurements as a table.  Nothing is copied by hand,
so the page always shows what the files hold.  Smoke-test files (``"quick":
true``) are left out; a PNG named in a file (``"plot"``) is shown with it.

The page is rewritten only when its text changes, so an unchanged build stays
incremental.  ``python docs/_ext/benchmark_tables.py`` prints the page.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "results"
DOCNAME = "benchmark-data"
OUT_DIR = "_generated"

#: Keys shown in a section's header rather than as data.
META = ("script", "quick", "timestamp", "argv", "machine", "settings", "total_seconds", "plot", "note")


def _number(value: float) -> str:
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return format(value, ".4g")


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float, str))


def _cell(value: Any) -> str:
    """One table cell: numbers to 4 significant digits, lists of scalars joined, anything else as JSON."""
    if value is None:
        text = "–"
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, int):
        text = str(value)
    elif isinstance(value, float):
        text = _number(value)
    elif isinstance(value, str):
        text = value if value else "–"
    elif isinstance(value, list) and all(_scalar(v) for v in value):
        text = ", ".join(_cell(v) for v in value) if value else "–"
    else:
        text = json.dumps(value, separators=(", ", ": "), default=str)
    return text.replace("|", "\\|").replace("\n", " ")


def _table_of_dicts(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _flatten(record: dict, prefix: str = "") -> tuple[dict[str, Any], list[str]]:
    """A row's columns: nested dicts become ``outer.inner`` columns; lists of dicts are left out (returned)."""
    flat: dict[str, Any] = {}
    omitted: list[str] = []
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            sub, left = _flatten(value, name + ".")
            flat.update(sub)
            omitted += left
        elif _table_of_dicts(value):
            omitted.append(name)
        else:
            flat[name] = value
    return flat, omitted


def _is_mapping(value: Any) -> bool:
    """A dict of dicts (``None`` allowed for a missing one): keys label rows, not columns."""
    return (isinstance(value, dict) and bool(value) and any(isinstance(v, dict) for v in value.values())
            and all(isinstance(v, dict) or v is None for v in value.values()))


def _is_record(value: Any) -> bool:
    """A dict that reads as one table row: scalars, lists of scalars and nested records."""
    if not isinstance(value, dict) or not value or _is_mapping(value):
        return False
    return all(not _table_of_dicts(v) and (not isinstance(v, dict) or not v or _is_record(v)) for v in value.values())


def _keyed_records(value: Any, depth: int = 0) -> list[tuple[tuple[str, ...], dict]] | None:
    """``{key: record}`` or ``{key: {key2: record}}`` as rows with their keys; None when not shaped so."""
    if not _is_mapping(value) or depth > 2:
        return None
    rows: list[tuple[tuple[str, ...], dict]] = []
    for key, sub in value.items():
        if sub is None or sub == {}:
            rows.append(((str(key),), {}))
        elif _is_record(sub):
            rows.append(((str(key),), sub))
        else:
            deeper = _keyed_records(sub, depth + 1)
            if deeper is None:
                return None
            rows += [((str(key),) + keys, rec) for keys, rec in deeper]
    deepest = max(len(keys) for keys, _ in rows)
    # a missing entry (None) at a shallower level is padded with empty keys
    return [(keys + ("",) * (deepest - len(keys)), rec) for keys, rec in rows]


def _markdown_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(_cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines + [""]


def _records_table(records: list[dict], keys: list[tuple[str, ...]] | None = None) -> list[str]:
    columns: list[str] = []
    omitted: list[str] = []
    flats = []
    for record in records:
        flat, left = _flatten(record)
        flats.append(flat)
        omitted += [o for o in left if o not in omitted]
        columns += [c for c in flat if c not in columns]
    depth = len(keys[0]) if keys else 0
    header = ["key" if i == 0 else f"key {i + 1}" for i in range(depth)] + columns
    rows = []
    for i, flat in enumerate(flats):
        lead = [_cell(k) for k in keys[i]] if keys else []
        rows.append(lead + [_cell(flat.get(c)) if c in flat else "–" for c in columns])
    lines = _markdown_table(header, rows)
    if omitted:
        lines += [f"Left out of this table (nested lists of raw timings; see the JSON file): "
                  f"{', '.join('`' + o + '`' for o in omitted)}.", ""]
    return lines


def _key_value(pairs: list[tuple[str, Any]]) -> list[str]:
    return _markdown_table(["name", "value"], [[_cell(k), _cell(v)] for k, v in pairs])


def _section(name: str, value: Any, level: int) -> list[str]:
    """The data under ``name``: a table, a table keyed by the dict's keys, or a key-value table and subsections."""
    heading = "#" * level + f" `{name}`"
    if _table_of_dicts(value):
        return [heading, ""] + _records_table(value)
    keyed = _keyed_records(value)
    if keyed is not None:
        return [heading, ""] + _records_table([rec for _, rec in keyed], [keys for keys, _ in keyed])
    if isinstance(value, dict):
        scalars = [(k, v) for k, v in value.items() if _scalar(v) or (isinstance(v, list) and not _table_of_dicts(v))]
        lines = [heading, ""] + (_key_value(scalars) if scalars else [])
        for k, v in value.items():
            if not any(k == s for s, _ in scalars):
                lines += _section(f"{name}.{k}", v, min(level + 1, 6))
        return lines
    return [heading, ""] + _key_value([(name, value)])


def _machine(data: dict) -> str:
    m = data.get("machine") or {}
    parts = [str(m.get("cpu_model") or m.get("processor") or "unknown CPU")]
    if m.get("nproc"):
        parts.append(f"{m['nproc']} cores")
    if m.get("python"):
        parts.append(f"Python {m['python']}")
    if m.get("numpy"):
        parts.append(f"numpy {m['numpy']}")
    if m.get("git_commit"):
        parts.append(f"commit {str(m['git_commit'])[:7]}")
    return ", ".join(parts)


def file_section(path: Path, data: dict) -> list[str]:
    script = data.get("script") or path.stem
    lines = [f"## {script}", ""]
    facts = [f"File `benchmarks/results/{path.name}`, written by `benchmarks/{script}.py`"]
    if data.get("timestamp"):
        facts.append(f"on {data['timestamp']}")
    facts.append(f"on {_machine(data)}")
    if isinstance(data.get("total_seconds"), (int, float)):
        facts.append(f"in {data['total_seconds']:.0f} s")
    lines += [" ".join(facts) + ".", ""]
    if data.get("argv"):
        lines += [f"Arguments: `{' '.join(map(str, data['argv']))}`.", ""]
    if data.get("note"):
        lines += [f"Note: {_cell(data['note'])}", ""]
    settings = data.get("settings")
    if isinstance(settings, dict) and settings:
        lines += ["### Settings", ""] + _key_value(list(settings.items()))
    plot = data.get("plot")
    if isinstance(plot, str) and (RESULTS / plot).is_file():
        lines += [f"![{script}]({plot})", ""]
    data_keys = [k for k in data if k not in META]
    scalars = [(k, data[k]) for k in data_keys if _scalar(data[k]) or
               (isinstance(data[k], list) and not _table_of_dicts(data[k]))]
    if scalars:
        lines += ["### Values", ""] + _key_value(scalars)
    for key in data_keys:
        if not any(key == s for s, _ in scalars):
            lines += _section(key, data[key], 3)
    return lines


def page() -> tuple[str, list[Path]]:
    """The page's Markdown and the images it shows."""
    lines = [
        "# Benchmark data",
        "",
        "This page is generated when the documentation is built, from the JSON files the",
        "benchmark scripts in `benchmarks/` write to `benchmarks/results/`. Numbers are shown to four",
        "significant digits; the files hold them in full. The pages of the user guide and",
        "[Benchmarks](benchmarks.md) say what the numbers mean.",
        "",
    ]
    images: list[Path] = []
    files = sorted(RESULTS.glob("*.json")) if RESULTS.is_dir() else []
    shown = 0
    for path in files:
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            lines += [f"## {path.name}", "", f"Not readable: {exc}.", ""]
            continue
        if not isinstance(data, dict) or data.get("quick") or path.name.endswith(".quick.json"):
            continue
        lines += file_section(path, data)
        shown += 1
        plot = data.get("plot")
        if isinstance(plot, str) and (RESULTS / plot).is_file():
            images.append(RESULTS / plot)
    if not shown:
        lines += ["No result files were found in `benchmarks/results/`.", ""]
    return "\n".join(lines).rstrip() + "\n", images


def write(srcdir: Path) -> Path:
    out = srcdir / OUT_DIR
    out.mkdir(exist_ok=True)
    text, images = page()
    # The generated page links to benchmarks.md one directory up.
    text = text.replace("](benchmarks.md)", "](../benchmarks.md)")
    target = out / f"{DOCNAME}.md"
    if not target.is_file() or target.read_text() != text:
        target.write_text(text)
    for image in images:
        dest = out / image.name
        if not dest.is_file() or dest.read_bytes() != image.read_bytes():
            shutil.copyfile(image, dest)
    return target


def _builder_inited(app) -> None:
    write(Path(app.srcdir))


def setup(app):
    app.connect("builder-inited", _builder_inited)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}


if __name__ == "__main__":
    print(page()[0])
