"""Saves under hostile conditions: racing processes, hostile paths, failing system calls, foreign directories.

Whatever the path and whatever the operating system does, a save either writes its file(s) whole or raises
:class:`npl_nengo.files.SaveError` (a ValidationError, and an OSError) naming the path, leaving no temporary
file, no lock, no staging folder and every old file as it was.  Hypothesis runs derandomized and without an
example database (as in test_fuzz.py).
"""

import csv
import errno
import io
import json
import multiprocessing
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import npl_nengo as npl
from npl_nengo import files
from npl_nengo.cells import Row
from npl_nengo.files import LOCK_NAME, STAGING_PREFIX, SaveError, write_atomic
from npl_nengo.report import Report
from npl_nengo.sweeps import SweepResult

HOSTILE = settings(derandomize=True, database=None, deadline=None, max_examples=40,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
SETTINGS = {"backends": ["reference"], "neurons": ["rate"], "methods": ["sampled"], "seeds": [0], "n_neurons": None,
            "max_rate": 1000.0, "dt": 0.001, "metric": "truth_table"}


def _report(name: str = "p0", seed: int = 0) -> Report:
    """A report made by hand (no simulation): one passing cell, no figures."""
    row = Row(name, "sampled", seed, "reference", "rate", "rate", 100, 1000.0, result="PASS", passed=True, error=0.001)
    return Report(name, "a hand-made report", [row], dict(SETTINGS))


def _leftovers(root: Path) -> list[str]:
    """Temporary files, locks and staging folders anywhere under ``root``."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")
                  if p.name.endswith(".tmp") or p.name.startswith((LOCK_NAME, STAGING_PREFIX)))


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file() and not p.is_symlink()}


# -- two processes, one path -------------------------------------------------------------------------------
def _race_worker(jobs, payloads, barrier, queue):
    """Do each save of ``jobs`` in step with the other worker (a spawned process): ``(index, outcome, message)``."""
    for index, (kind, path, overwrite) in enumerate(jobs):
        barrier.wait(timeout=120)
        try:
            if kind == "bytes":
                write_atomic(path, payloads[kind], overwrite=overwrite)
            else:  # a network (a file) or a report (a directory)
                payloads[kind].save(path, overwrite=overwrite)
            queue.put((index, "ok", ""))
        except SaveError as exc:
            queue.put((index, "SaveError", str(exc)))
        except BaseException as exc:  # noqa: BLE001 - reported, the test fails on it
            queue.put((index, type(exc).__name__, str(exc)))


@pytest.fixture(scope="module")
def races(tmp_path_factory, nand30):
    """Two spawned processes do the same saves at the same moments (one pair of processes for every race:
    starting one costs seconds).  Returns ``{kind: [(path, overwrite, [outcome, outcome]), ...]}``."""
    root = tmp_path_factory.mktemp("races")
    jobs = ([("network", str(root / f"net{i}.npz"), False) for i in range(16)]
            + [("bytes", str(root / f"f{i}.bin"), False) for i in range(16)]
            + [("bytes", str(root / f"f{i}.bin"), True) for i in range(6)]
            + [("report", str(root / f"report-{overwrite}-{i}"), overwrite) for overwrite in (False, True)
               for i in range(8)])
    payloads = [{"network": nand30, "bytes": b"a" * 300_000, "report": _report("p0", 0)},
                {"network": nand30, "bytes": b"b" * 300_000, "report": _report("p1", 1)}]
    ctx = multiprocessing.get_context("spawn")  # no fork of a process that may run threads
    barrier, queue = ctx.Barrier(2), ctx.Queue()
    workers = [ctx.Process(target=_race_worker, args=(jobs, p, barrier, queue)) for p in payloads]
    for w in workers:
        w.start()
    outcomes: dict[int, list] = {}
    try:
        for _ in range(2 * len(jobs)):
            index, outcome, message = queue.get(timeout=300)
            outcomes.setdefault(index, []).append((outcome, message))
    finally:
        for w in workers:
            w.join(timeout=60)
            if w.is_alive():  # pragma: no cover - a hung worker: end it, the test has failed already
                w.kill()
    result: dict[str, list] = {}
    for index, (kind, path, overwrite) in enumerate(jobs):
        result.setdefault(kind, []).append((path, overwrite, outcomes[index]))
    assert _leftovers(root) == []
    return result


def test_two_processes_saving_one_network_path_exclusively_exactly_one_wins(races):
    for path, _, pair in races["network"]:
        assert sorted(o for o, _ in pair) == ["SaveError", "ok"], (path, pair)
        (message,) = [m for o, m in pair if o == "SaveError"]
        assert message == f"save: {path!r} exists; pass overwrite=True to replace it"
        assert npl.load(path).name == "nand"


def test_two_processes_writing_one_file_exclusively_and_replacing_it(races):
    for path, overwrite, pair in races["bytes"]:
        # exclusively: one wins, the other is told the file exists; replacing: both succeed, one after the other
        assert sorted(o for o, _ in pair) == (["ok", "ok"] if overwrite else ["SaveError", "ok"]), (path, pair)
        assert Path(path).read_bytes() in (b"a" * 300_000, b"b" * 300_000)  # one of them, whole


def test_two_processes_saving_reports_into_one_directory_never_mix_them(races):
    """The directory is claimed: a writer that finds it claimed fails (or, with overwrite, waits), so the
    files in it are always one report's, whole."""
    for directory, overwrite, pair in races["report"]:
        assert any(o == "ok" for o, _ in pair), pair
        for outcome, message in pair:
            assert outcome == "ok" or (outcome == "SaveError" and not overwrite
                                       and "is being written by process" in message), pair
        doc = json.loads((Path(directory) / "report.json").read_text())
        md = (Path(directory) / "report.md").read_text()
        (row,) = csv.DictReader(io.StringIO((Path(directory) / "report.csv").read_text()))
        assert md.startswith(f"# {doc['network']}: backend comparison") and row["seed"] == doc["network"][1:]
        assert sorted(os.listdir(directory)) == ["report.csv", "report.json", "report.md"]


# -- hostile paths -----------------------------------------------------------------------------------------
PATH_KINDS = ["fresh", "existing", "empty", "spaces", "dot", "dotdot", "trailing_separator", "directory_npz",
              "under_a_file", "missing_parent", "nul", "too_long", "dangling_symlink", "symlink_to_directory",
              "not_a_path", "bytes_path"]


def _hostile_path(sandbox: Path, kind: str):
    (sandbox / "adir").mkdir()
    (sandbox / "afile").write_bytes(b"a file")
    (sandbox / "existing.npz").write_bytes(b"old contents")
    (sandbox / "directory.npz").mkdir()
    (sandbox / "dangling.npz").symlink_to(sandbox / "nowhere" / "target")
    (sandbox / "todir.npz").symlink_to(sandbox / "adir", target_is_directory=True)
    return {"fresh": sandbox / "new.npz", "existing": sandbox / "existing.npz", "empty": "", "spaces": "   ",
            "dot": ".", "dotdot": "..", "trailing_separator": f"{sandbox}/net/", "directory_npz": sandbox / "directory.npz",
            "under_a_file": sandbox / "afile" / "x.npz", "missing_parent": sandbox / "no" / "such" / "x.npz",
            "nul": f"{sandbox}/x\x00.npz", "too_long": sandbox / ("n" * 300 + ".npz"),
            "dangling_symlink": sandbox / "dangling.npz", "symlink_to_directory": sandbox / "todir.npz",
            "not_a_path": 42, "bytes_path": os.fsencode(sandbox / "b.npz")}[kind]


@HOSTILE
@given(kind=st.sampled_from(PATH_KINDS), overwrite=st.booleans(), saver=st.sampled_from(["network", "bytes"]))
def test_hostile_paths_save_whole_or_fail_with_a_save_error(tmp_path_factory, nand30, kind, overwrite, saver):
    sandbox = tmp_path_factory.mktemp("hostile")
    path = _hostile_path(sandbox, kind)
    before = _snapshot(sandbox)
    try:
        if saver == "network":
            written = nand30.save(path, overwrite=overwrite)
        else:
            written = write_atomic(path, b"new contents", overwrite=overwrite)
    except SaveError as exc:
        message = str(exc)
        assert message.startswith("save: ") and "\n" not in message
        if isinstance(path, (str, Path)) and str(path).startswith(str(sandbox)):
            assert repr(str(sandbox))[1:-1] in message  # it names the path
        assert _snapshot(sandbox) == before  # nothing changed
    else:
        assert kind in ("fresh", "existing", "dangling_symlink", "symlink_to_directory", "bytes_path")
        assert kind != "existing" or overwrite  # never replaced without overwrite
        if saver == "network":
            assert npl.load(written).n_neurons == nand30.n_neurons
        else:
            assert Path(written).read_bytes() == b"new contents"
        for name, data in before.items():  # nothing else changed: the symlinks' targets included
            if (sandbox / name).resolve() != Path(written).resolve():
                assert (sandbox / name).read_bytes() == data
    assert _leftovers(sandbox) == []


class _FaultyOs:
    """``os`` as files.py sees it, with one function failing on its n-th call."""

    def __init__(self, name: str, call: int, code: int):
        self.name, self.call, self.code, self.calls = name, call, code, 0

    def __getattr__(self, name):
        real = getattr(os, name)
        if name != self.name:
            return real

        def faulty(*args, **kwargs):
            self.calls += 1
            if self.calls == self.call:
                raise OSError(self.code, os.strerror(self.code))
            return real(*args, **kwargs)

        return faulty


@HOSTILE
@given(function=st.sampled_from(["open", "fdopen", "fsync", "replace", "link", "close"]), call=st.integers(1, 3),
       code=st.sampled_from([errno.EACCES, errno.ENOSPC, errno.EIO, errno.EROFS, errno.EPERM, errno.EXDEV]),
       overwrite=st.booleans(), existing=st.booleans())
def test_failing_system_calls_leave_the_old_file_and_no_temporary(tmp_path_factory, nand30, function, call, code,
                                                                  overwrite, existing):
    sandbox = tmp_path_factory.mktemp("faults")
    path = sandbox / "net.npz"
    if existing:
        nand30.save(path)
    before = _snapshot(sandbox)
    faulty = _FaultyOs(function, call, code)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(files, "os", faulty)
        try:
            nand30.save(path, overwrite=overwrite)
            outcome = "ok"
        except SaveError as exc:
            outcome = str(exc)
    if outcome == "ok":
        assert not existing or overwrite
        assert npl.load(path).name == "nand"
    else:
        assert outcome.startswith(f"save: {str(path)!r}") or outcome.startswith(f"save: cannot write {str(path)!r}")
        assert _snapshot(sandbox) == before
    # a failure to make the rename durable (the directory's fsync) is not a failure to save
    if (function, call) == ("fsync", 2) and outcome != "ok":
        assert existing and not overwrite  # refused before any fsync
    assert _leftovers(sandbox) == []


def test_a_filesystem_without_hard_links_still_saves_exclusively(tmp_path, nand30, monkeypatch):
    def no_links(*args, **kwargs):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(files.os, "link", no_links)
    path = nand30.save(tmp_path / "n.npz")
    with pytest.raises(SaveError, match="exists; pass overwrite=True"):
        nand30.save(path)
    assert npl.load(path).name == "nand" and _leftovers(tmp_path) == []


def test_save_errors_are_validation_errors_and_os_errors(tmp_path, nand30):
    with pytest.raises(SaveError) as caught:
        nand30.save(tmp_path / "missing" / "n.npz")
    exc = caught.value
    assert isinstance(exc, npl.ValidationError) and isinstance(exc, npl.NplError) and isinstance(exc, OSError)
    assert exc.errno == errno.ENOENT and str(exc) == (f"save: cannot write {str(tmp_path / 'missing' / 'n.npz')!r}: "
                                                      f"no such directory {str(tmp_path / 'missing')!r}")


def test_an_interrupted_write_leaves_nothing(tmp_path):
    (tmp_path / "f").write_text("old")
    with pytest.raises(KeyboardInterrupt):
        with files.atomic_output(tmp_path / "f") as fh:
            fh.write(b"half")
            raise KeyboardInterrupt
    assert (tmp_path / "f").read_text() == "old" and os.listdir(tmp_path) == ["f"]


# -- report directories ------------------------------------------------------------------------------------
DIRECTORY_KINDS = ["new", "new_with_parents", "empty", "ours", "ours_with_notes", "foreign", "foreign_same_names",
                   "sweep", "a_file", "under_a_file", "empty_name", "nul", "too_long", "report_md_is_a_directory",
                   "live_lock", "stale_lock", "garbage_lock"]


@pytest.fixture(scope="module")
def live_pid():
    """A process that runs for the module's tests."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    yield proc.pid
    proc.kill()
    proc.wait()


@pytest.fixture(scope="module")
def dead_pid():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _lock(directory: Path, pid: int) -> None:
    import socket

    (directory / LOCK_NAME).write_text(json.dumps({"pid": pid, "host": socket.gethostname(), "token": "x"}))


def _hostile_directory(sandbox: Path, kind: str, names: list[str], live: int, dead: int):
    target = sandbox / "out"
    if kind in ("empty", "ours", "ours_with_notes", "foreign", "foreign_same_names", "sweep", "report_md_is_a_directory",
                "live_lock", "stale_lock", "garbage_lock"):
        target.mkdir()
    if kind in ("ours", "ours_with_notes", "live_lock", "stale_lock"):
        _report("earlier").save(target)
    if kind == "ours_with_notes":
        (target / "notes.txt").write_text("mine")
    if kind == "foreign":
        for name in names:
            (target / name).write_text(f"foreign {name}")
    if kind == "foreign_same_names":
        for name in ("report.md", "report.json", *names):
            (target / name).write_text(f"foreign {name}")
    if kind == "sweep":
        SweepResult("nand", [], {}).save(target)
    if kind == "report_md_is_a_directory":
        (target / "report.md").mkdir()
    if kind == "live_lock":
        _lock(target, live)
    if kind == "stale_lock":
        _lock(target, dead)
        (target / f"{STAGING_PREFIX}x-1").mkdir()  # the dead writer's staging folder
        (target / f"{STAGING_PREFIX}x-1" / "report.md").write_text("half")
    if kind == "garbage_lock":
        (target / LOCK_NAME).write_text("not json")
    (sandbox / "afile").write_text("a file")
    return {"new_with_parents": sandbox / "a" / "b" / "out", "a_file": sandbox / "afile",
            "under_a_file": sandbox / "afile" / "out", "empty_name": "", "nul": f"{sandbox}/o\x00ut",
            "too_long": sandbox / ("d" * 300)}.get(kind, target)


@HOSTILE
@given(kind=st.sampled_from(DIRECTORY_KINDS), overwrite=st.booleans(),
       names=st.lists(st.sampled_from(["a.txt", ".hidden", "data.csv", "report.csv", "outputs.png", "x y"]),
                      min_size=1, max_size=4, unique=True))
def test_a_report_goes_into_its_own_directory(tmp_path_factory, live_pid, dead_pid, kind, overwrite, names):
    sandbox = tmp_path_factory.mktemp("reports")
    directory = _hostile_directory(sandbox, kind, names, live_pid, dead_pid)
    before = _snapshot(sandbox)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(files, "LOCK_WAIT_S", 0.2)
        try:
            paths = _report("new").save(directory, overwrite=overwrite)
            outcome = "ok"
        except SaveError as exc:
            outcome = str(exc)
    if outcome != "ok":
        assert outcome.startswith("report: ") and "\n" not in outcome
        assert kind in ("foreign", "foreign_same_names", "sweep", "a_file", "under_a_file", "empty_name", "nul",
                        "too_long", "report_md_is_a_directory", "live_lock", "garbage_lock"), outcome
        if kind in ("foreign", "foreign_same_names", "sweep"):
            assert not overwrite and "not written by npl_nengo.compare" in outcome
        if kind in ("live_lock", "garbage_lock"):
            assert "is being written by" in outcome and "delete the lock file" in outcome
        if kind == "live_lock":
            assert f"process {live_pid}" in outcome
        if kind not in ("empty_name",):
            assert repr(str(directory))[1:-1][:60] in outcome  # it names the directory
        assert _snapshot(sandbox) == before  # nothing written, nothing removed
        assert _leftovers(sandbox) == (["out/" + LOCK_NAME] if kind in ("live_lock", "garbage_lock") else [])
        return
    assert kind in ("new", "new_with_parents", "empty", "ours", "ours_with_notes", "stale_lock") or overwrite, kind
    doc = json.loads(paths["json"].read_text())
    assert doc["network"] == "new" and paths["markdown"].read_text().startswith("# new: backend comparison")
    # no foreign file is lost: each is where it was, or (replaced by a report file) kept as NAME.orig
    for name, data in before.items():
        kept = sandbox / name
        if name.startswith("out/") and kind not in ("ours", "ours_with_notes", "stale_lock") \
                and Path(name).name in ("report.md", "report.csv", "report.json"):
            kept = kept.with_name(kept.name + ".orig")
        if kind in ("ours", "ours_with_notes", "stale_lock") and Path(name).name.startswith("report."):
            continue  # the earlier report: replaced
        if STAGING_PREFIX in name or Path(name).name == LOCK_NAME:
            continue  # the dead writer's lock and staging folder: removed
        assert kept.read_bytes() == data, name
    assert _leftovers(sandbox) == []


def test_the_second_writer_of_a_claimed_directory_fails_at_once(tmp_path):
    """A command holds its output directory (Report.claim) while it computes; a save inside shares the claim,
    another thread or process is refused, and overwrite waits for the claim to end."""
    report = _report()
    seen = {}

    def other(overwrite):
        try:
            report.save(tmp_path / "out", overwrite=overwrite)
            seen[overwrite] = "ok"
        except SaveError as exc:
            seen[overwrite] = str(exc)

    with Report.claim(tmp_path / "out") as claim:
        assert claim.path == tmp_path / "out" and os.listdir(claim.path) == [LOCK_NAME]
        thread = threading.Thread(target=other, args=(False,))
        thread.start()
        thread.join()
        assert f"is being written by process {os.getpid()}" in seen[False]
        waiting = threading.Thread(target=other, args=(True,))
        waiting.start()  # waits for the claim ...
        report.save(tmp_path / "out")  # ... that a save in the same thread shares
        assert waiting.is_alive()
    waiting.join(timeout=30)
    assert seen[True] == "ok"
    assert sorted(os.listdir(tmp_path / "out")) == ["report.csv", "report.json", "report.md"]


def test_a_failed_save_into_a_new_directory_leaves_no_directory(tmp_path, monkeypatch):
    def broken(self, figures=None):
        raise RuntimeError("no markdown today")

    monkeypatch.setattr(Report, "to_markdown", broken)
    with pytest.raises(RuntimeError, match="no markdown today"):
        _report().save(tmp_path / "out")
    assert os.listdir(tmp_path) == []
