"""Writing result files: atomically, into directories an earlier run of the same tool wrote, as JSON.

Shared by comparison reports, sweeps and figures (:mod:`npl_nengo.report`,
:mod:`npl_nengo.sweeps`, :mod:`npl_nengo.plots`).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any


from .errors import ValidationError

__all__ = ["write_atomic", "prepare_directory", "jsonable"]


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        if isinstance(data, bytes):
            tmp.write_bytes(data)
        else:
            tmp.write_text(data, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def prepare_directory(directory: str | os.PathLike, files: tuple[str, ...], generator: str, overwrite: bool,
                      where: str) -> Path:
    """Create ``directory`` for ``files``, refusing to replace files another program wrote.

    Files of an earlier run of the same ``generator`` (its JSON file says so)
    are replaced; anything else only with ``overwrite``.
    """
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise ValidationError(f"{where}: {str(directory)!r} exists and is not a directory")
    existing = [f for f in files if (directory / f).exists()]
    if existing and not overwrite:
        json_file = directory / next(f for f in files if f.endswith(".json"))
        try:
            ours = json.loads(json_file.read_text(encoding="utf-8")).get("generator") == generator
        except (OSError, ValueError, AttributeError):
            ours = False
        if not ours:
            raise ValidationError(f"{where}: {str(directory)!r} already holds {', '.join(existing)}, not written by "
                                  f"{generator} (pass overwrite=True, or --force on the command line)")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def jsonable(value: Any) -> Any:
    """NaN and inf become ``null`` (JSON has neither)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if callable(getattr(value, "to_dict", None)) and not isinstance(value, type):  # e.g. a cells.Row
        value = value.to_dict()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value
