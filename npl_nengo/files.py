"""Writing result files: atomically, exclusively, into directories claimed by one writer, as JSON.

Shared by saved networks, comparison reports, sweeps and figures (:mod:`npl_nengo.rnn`,
:mod:`npl_nengo.report`, :mod:`npl_nengo.sweeps`, :mod:`npl_nengo.plots`).

* :func:`atomic_output` / :func:`write_atomic`: one file, written to a temporary
  name in its directory, flushed to disk, then put in place in one step:
  ``overwrite=True`` renames it over the old file (``os.replace``), so a reader
  sees the old file or the new one, never half of one; ``overwrite=False``
  hard-links it to the name, which fails if the name exists, so of two
  processes saving to one path at once exactly one wins (no check-then-rename
  race).  Every operating-system failure (no such directory, the path is a
  directory, no permission, a full disk) is a :class:`SaveError` naming the
  path, and never leaves a temporary file or a damaged old file behind.
* :func:`claim_directory`: a report's own directory, created if missing and
  claimed for one writer by a lock file created exclusively (``O_EXCL``); a
  non-empty directory that is not an earlier report of the same kind is
  refused.  Reports are written into a staging folder inside it and renamed
  into place file by file (:meth:`DirectoryClaim.commit`).
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import secrets
import shutil
import socket
import threading
import time
from pathlib import Path
from typing import IO, Any, Iterable, Iterator

from .errors import SaveError

__all__ = ["SaveError", "atomic_output", "write_atomic", "output_path", "claim_directory", "DirectoryClaim",
           "jsonable", "LOCK_NAME", "command_line_wording"]

#: The lock file a writer creates (exclusively) in a report directory while it writes there.
LOCK_NAME = ".npl_nengo.lock"
#: Prefix of the hidden folder a report is written into before its files are renamed into place.
STAGING_PREFIX = ".npl_nengo-staging-"
#: How long a save with ``overwrite=True`` waits for another process's save into the same directory.
LOCK_WAIT_S = 30.0
#: A directory's JSON file larger than this is not read to decide whose it is (not ours).
MAX_MARKER_BYTES = 64 * 1024**2
#: ``os.link`` errors that mean "this filesystem has no hard links" (exclusive saves then reserve the name).
_NO_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK, errno.ENOSYS}


#: How a refused overwrite is undone, in the API's words -> in the command line's (``npl-nengo ... --force``).
_REPLACE_HINT = "pass overwrite=True to replace it"
_ADD_HINT = "pass overwrite=True, or --force on the command line, to add it"
_CLI_HINTS = {_REPLACE_HINT: "pass --force to replace it", _ADD_HINT: "pass --force to add it"}


def command_line_wording(message: str) -> str:
    """``message`` as the command line says it: its ``--force`` for the API's ``overwrite=True``."""
    for api, cli in _CLI_HINTS.items():
        message = message.replace(api, cli)
    return message


def _error(message: str, cause: OSError | None = None) -> SaveError:
    exc = SaveError(message)
    if cause is not None and cause.errno is not None:
        exc.errno = cause.errno
    return exc


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def _text(path: Any, where: str, what: str) -> str:
    """``path`` as a non-empty string (``str``, ``bytes`` or ``os.PathLike``); anything else is a SaveError."""
    try:
        text = os.fspath(path)
    except TypeError:
        raise _error(f"{where}: {what} must be a path (str or os.PathLike), got {type(path).__name__}") from None
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    if not text.strip():
        raise _error(f"{where}: the {what} is empty")
    if "\x00" in text:
        raise _error(f"{where}: {text!r} is not a valid {what} (it holds a NUL character)")
    return text


def output_path(path: str | os.PathLike, where: str = "save", suffix: str | None = None) -> Path:
    """``path`` as a file to write: a non-empty name that is not ``.``/``..`` nor ends in a separator,
    with ``suffix`` appended when it is missing."""
    text = _text(path, where, "file name")
    result = Path(text)
    if text.endswith(("/", os.sep)) or result.name in ("", ".", ".."):
        raise _error(f"{where}: {text!r} names a directory, not a file")
    if suffix and result.suffix != suffix:
        result = result.with_name(result.name + suffix)
    return result


def _temporary(path: Path) -> tuple[int, Path]:
    """A new temporary file next to ``path`` (created exclusively; permissions as ``open`` gives them)."""
    while True:
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666), tmp
        except FileExistsError:  # pragma: no cover - 32 random bits taken
            continue


def _fsync_directory(directory: Path) -> None:
    """Make a rename in ``directory`` durable (where the platform can; best effort)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)


def _place_exclusively(tmp: Path, path: Path) -> None:
    """Give ``tmp`` the name ``path`` unless ``path`` exists (FileExistsError): a hard link, which the
    filesystem refuses atomically; without hard links, the name is reserved with ``O_EXCL`` first."""
    try:
        os.link(tmp, path)
        return
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in _NO_LINKS:
            raise
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))  # FileExistsError: taken
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(path)  # the empty file that reserved the name
        raise


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, overwrite: bool = True, where: str = "save") -> Iterator[IO[bytes]]:
    """A binary file object whose contents become ``path`` when the ``with`` block ends without an error.

    ``overwrite=False``: if ``path`` exists (or another process creates it
    first) a :class:`SaveError` says so and nothing is written.  An error in
    the block, or an interrupt, leaves ``path`` as it was and no temporary file.
    """
    path = output_path(path, where)
    shown = str(path)
    parent = path.parent
    exists = _error(f"{where}: {shown!r} exists; {_REPLACE_HINT}", OSError(errno.EEXIST, ""))

    def failure(exc: OSError) -> SaveError:
        if isinstance(exc, IsADirectoryError):
            return _error(f"{where}: {shown!r} is a directory", exc)
        return _error(f"{where}: cannot write {shown!r}: {_reason(exc)}", exc)

    try:  # early, clear refusals (the exclusive link below is what decides a race)
        if not parent.is_dir():
            missing = not parent.exists()
            raise _error(f"{where}: cannot write {shown!r}: "
                         + (f"no such directory {str(parent)!r}" if missing else f"{str(parent)!r} is not a directory"),
                         OSError(errno.ENOENT if missing else errno.ENOTDIR, ""))
        if path.is_dir():
            raise _error(f"{where}: {shown!r} is a directory", OSError(errno.EISDIR, ""))
    except SaveError:
        raise
    except OSError as exc:  # e.g. a name too long to look up
        raise failure(exc) from exc
    if not overwrite and os.path.lexists(path):
        raise exists

    tmp: Path | None = None
    try:
        try:
            fd, tmp = _temporary(path)
        except OSError as exc:
            raise failure(exc) from exc
        try:
            try:
                out = os.fdopen(fd, "wb")
            except BaseException:
                os.close(fd)
                raise
            with out as fh:
                yield fh
                fh.flush()
                os.fsync(fh.fileno())
        except SaveError:
            raise
        except OSError as exc:  # raised by the writer in the block, or by the disk
            raise failure(exc) from exc
        try:
            if overwrite:
                os.replace(tmp, path)
            else:
                _place_exclusively(tmp, path)
        except FileExistsError:
            raise exists from None
        except OSError as exc:
            raise failure(exc) from exc
        _fsync_directory(parent)
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def write_atomic(path: str | os.PathLike, data: str | bytes, overwrite: bool = True, where: str = "save") -> Path:
    """Write ``data`` (text as UTF-8) to ``path`` through :func:`atomic_output`; returns the path."""
    path = output_path(path, where)
    with atomic_output(path, overwrite, where) as fh:
        fh.write(data.encode("utf-8") if isinstance(data, str) else data)
    return path


# -- report directories -------------------------------------------------------------------------------
_held = threading.local()  # this thread's claims: {real path: [pid, depth, token]}


def _claims() -> dict[str, list]:
    claims = getattr(_held, "claims", None)
    if claims is None:
        claims = _held.claims = {}
    return claims


def _alive(info: dict) -> bool | None:
    """Whether the process that wrote a lock file runs: ``None`` where that cannot be told (another host)."""
    pid = info.get("pid")
    if info.get("host") != socket.gethostname() or not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return None
    if os.name == "nt":  # pragma: no cover - signal 0 is CTRL_C_EVENT there: never sent
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it runs, as another user
        return True
    return True


def _read_lock(lock: Path) -> tuple[str, dict] | None:
    """The lock file's text and contents; ``None`` if it is gone."""
    try:
        text = lock.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError):
        return "", {}
    try:
        info = json.loads(text)
    except ValueError:
        info = {}
    return text, info if isinstance(info, dict) else {}


def _break_stale(lock: Path, text: str, info: dict) -> None:
    """Remove the lock of a writer that no longer runs (and its staging folder), unless it changed meanwhile."""
    aside = lock.with_name(f"{lock.name}.stale-{secrets.token_hex(6)}")
    try:
        os.rename(lock, aside)
    except OSError:  # another process broke it first
        return
    try:
        if aside.read_text(encoding="utf-8") != text:  # a new writer's lock: give it back
            with contextlib.suppress(OSError):
                os.link(aside, lock)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            os.unlink(aside)
    token = info.get("token")
    if isinstance(token, str) and token.isalnum():
        for entry in os.listdir(lock.parent):
            if entry.startswith(f"{STAGING_PREFIX}{token}-"):
                shutil.rmtree(lock.parent / entry, ignore_errors=True)


class DirectoryClaim:
    """A directory claimed for one report (see :func:`claim_directory`).

    ``path`` is the directory; files are written into :meth:`staging` and put
    in place by :meth:`commit`.  ``foreign``: the directory held files another
    program wrote (allowed by ``overwrite``); a file of theirs that a report
    file replaces is kept as ``NAME.orig`` (``NAME.orig2``, ...).
    """

    def __init__(self, path: Path, token: str, where: str) -> None:
        self.path, self.token, self.where = path, token, where
        self.foreign = False
        self.kept: list[Path] = []
        self._staging: Path | None = None

    def staging(self) -> Path:
        """A hidden folder inside the directory (same filesystem: a rename puts a file in place)."""
        if self._staging is None:
            staging = self.path / f"{STAGING_PREFIX}{self.token}-{secrets.token_hex(4)}"
            try:
                staging.mkdir()
            except OSError as exc:
                raise _error(f"{self.where}: cannot write into {str(self.path)!r}: {_reason(exc)}", exc) from None
            self._staging = staging
        return self._staging

    def _keep(self, target: Path) -> None:
        """Keep a foreign file under a new name, ``NAME.orig[N]``, before a report file takes its name."""
        for n in range(1, 10_000):
            kept = target.with_name(f"{target.name}.orig{'' if n == 1 else n}")
            try:
                os.link(target, kept, follow_symlinks=False)
            except FileExistsError:
                continue
            except OSError as exc:
                if exc.errno not in _NO_LINKS:
                    raise
                if os.path.lexists(kept):
                    continue
                if target.is_symlink():
                    os.symlink(os.readlink(target), kept)
                else:
                    shutil.copy2(target, kept)
            self.kept.append(kept)
            return
        raise _error(f"{self.where}: too many kept copies of {str(target)!r}")  # pragma: no cover

    def commit(self, names: Iterable[str]) -> dict[str, Path]:
        """Rename the staged files ``names`` into the directory (in that order); returns their paths."""
        names = list(names)
        assert self._staging is not None, "nothing staged"
        targets = {name: self.path / name for name in names}
        for target in targets.values():  # nothing is moved if one cannot be
            if target.is_dir() and not target.is_symlink():
                raise _error(f"{self.where}: {str(target)!r} is a directory", OSError(errno.EISDIR, ""))
        try:
            for name, target in targets.items():
                if self.foreign and os.path.lexists(target):
                    self._keep(target)
                os.replace(self._staging / name, target)
            _fsync_directory(self.path)
        except OSError as exc:
            raise _error(f"{self.where}: cannot write into {str(self.path)!r}: {_reason(exc)}", exc) from None
        return targets

    def _cleanup(self) -> None:
        if self._staging is not None:
            shutil.rmtree(self._staging, ignore_errors=True)
            self._staging = None


def _directory(directory: str | os.PathLike, where: str) -> Path:
    path = Path(_text(directory, where, "directory name"))
    try:
        if path.exists() and not path.is_dir():
            raise _error(f"{where}: {str(path)!r} exists and is not a directory", OSError(errno.ENOTDIR, ""))
    except SaveError:
        raise
    except OSError as exc:  # e.g. a name too long to look up
        raise _error(f"{where}: cannot use the directory {str(path)!r}: {_reason(exc)}", exc) from exc
    return path


def _acquire(path: Path, generator: str, overwrite: bool, where: str, token: str) -> None:
    """Create the lock file exclusively; a stale one (its process gone) is removed, a live one is waited
    for (``overwrite``: up to :data:`LOCK_WAIT_S`) or refused."""
    lock = path / LOCK_NAME
    text = json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "generator": generator, "token": token,
                       "since": time.time()})
    deadline = time.monotonic() + LOCK_WAIT_S
    while True:
        tmp = path / f"{LOCK_NAME}.{token}.tmp"
        try:
            # written whole, then linked to its name exclusively: no reader sees a lock without its owner
            with open(tmp, "x", encoding="utf-8") as fh:
                fh.write(text)
            _place_exclusively(tmp, lock)
        except FileExistsError:
            held = _read_lock(lock)
            if held is None:
                continue  # released meanwhile
            if _alive(held[1]) is False:
                _break_stale(lock, *held)
                continue
            if overwrite and time.monotonic() < deadline:
                time.sleep(0.05)
                continue
            info = held[1]
            who = (f"process {info.get('pid')} on {info.get('host')}" if "pid" in info else "another process")
            raise _error(f"{where}: {str(path)!r} is being written by {who} (lock file {str(lock)!r}); wait for it "
                         f"to finish, or delete the lock file if no such process runs",
                         OSError(errno.EEXIST, "")) from None
        except OSError as exc:
            raise _error(f"{where}: cannot write into {str(path)!r}: {_reason(exc)}", exc) from None
        else:
            return
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def _release(path: Path, token: str) -> None:
    lock = path / LOCK_NAME
    held = _read_lock(lock)
    if held is not None and held[1].get("token") == token:
        with contextlib.suppress(OSError):
            os.unlink(lock)


def _written_by(path: Path, marker: str, generator: str) -> bool:
    """Whether ``path/marker`` is a JSON file ``generator`` wrote (its ``"generator"`` field)."""
    try:
        if not (path / marker).is_file() or (path / marker).stat().st_size > MAX_MARKER_BYTES:
            return False
        doc = json.loads((path / marker).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(doc, dict) and doc.get("generator") == generator


def _contents(path: Path) -> list[str]:
    """What the directory holds, besides writers' locks and staging folders."""
    return sorted(e for e in os.listdir(path) if not e.startswith((LOCK_NAME, STAGING_PREFIX)))


@contextlib.contextmanager
def claim_directory(directory: str | os.PathLike, files: tuple[str, ...], generator: str, overwrite: bool = False,
                    where: str = "save") -> Iterator[DirectoryClaim]:
    """Claim ``directory`` for one report of ``generator``, whose files are ``files`` (one ``.json``).

    The directory is created if missing (``os.mkdir``) and locked by a file
    created with ``O_EXCL``: a second writer, in this or another process, gets
    a :class:`SaveError` (with ``overwrite``, it waits up to
    :data:`LOCK_WAIT_S` for the first to finish, then replaces its report as a
    whole).  The lock of a process that no longer runs is removed.  Then the
    directory must be empty, or hold an earlier report of ``generator`` (its
    JSON file says so: it is replaced), or ``overwrite`` must be given: the
    report is then added to the directory, whose other files are left alone,
    and any of its files the report replaces is kept as ``NAME.orig``.

    Claims are re-entrant in one thread: a report saved inside a claim of
    its directory (what a command does to hold the directory from before its
    computation until its report is written) shares it.
    """
    path = _directory(directory, where)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        created = True
        try:
            os.mkdir(path)
        except FileExistsError:
            created = False
            if not path.is_dir():
                raise _error(f"{where}: {str(path)!r} exists and is not a directory",
                             OSError(errno.ENOTDIR, "")) from None
    except SaveError:
        raise
    except OSError as exc:
        raise _error(f"{where}: cannot create the directory {str(path)!r}: {_reason(exc)}", exc) from None
    key = os.path.realpath(path)
    held = _claims().get(key)
    outer = held is None or held[0] != os.getpid()
    token = secrets.token_hex(8) if outer or held is None else held[2]  # a staging folder is named after its lock
    if outer:
        try:
            _acquire(path, generator, overwrite, where, token)
        except BaseException:
            if created:
                with contextlib.suppress(OSError):
                    os.rmdir(path)
            raise
        _claims()[key] = [os.getpid(), 1, token]
    else:
        assert held is not None
        held[1] += 1
    claim = DirectoryClaim(path, token, where)
    try:
        try:
            contents = _contents(path)
        except OSError as exc:
            raise _error(f"{where}: cannot read the directory {str(path)!r}: {_reason(exc)}", exc) from None
        marker = next(f for f in files if f.endswith(".json"))
        if contents and not _written_by(path, marker, generator):
            if not overwrite:
                ours = [f for f in files if f in contents]
                held_text = ", ".join(ours or contents[:5]) + ("" if ours or len(contents) <= 5 else ", ...")
                raise _error(f"{where}: {str(path)!r} already holds {held_text}, not written by {generator}; a report "
                             f"goes into a new or empty directory, or replaces an earlier report there "
                             f"({_ADD_HINT} to this directory anyway: "
                             f"other files are left alone, files it replaces are kept as NAME.orig)",
                             OSError(errno.EEXIST, ""))
            claim.foreign = True
        yield claim
    finally:
        claim._cleanup()
        if outer:
            _claims().pop(key, None)
            _release(path, token)
            if created:
                with contextlib.suppress(OSError):
                    os.rmdir(path)  # only if nothing was written: a failed save leaves no empty directory
        else:
            assert held is not None
            held[1] -= 1


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
