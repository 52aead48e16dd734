"""Hostile and damaged network files: ``npl.load`` ends in a FormatError naming the file and the field, within
a time and a memory bound, before allocating what the file declares.

The corpus is tests/hostile/files/ (written by tests/hostile/make_files.py; MANIFEST.json gives each file's
class and the pattern its error matches); the property-based tests mutate the metadata fields, the ``.npy``
headers and the zip directory of the corpus's valid network (hypothesis, derandomized, no database).  Memory
is tracemalloc's peak during the load (numpy's buffers included); the subprocess test checks the issue's
bound on the whole process instead: at most 2 s a file and 200 MB of resident memory beyond the imports.
"""

import importlib.util
import json
import math
import re
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import npl_nengo as npl
from npl_nengo import rnn as rnn_module

HOSTILE = Path(__file__).resolve().parent / "hostile"
FILES = HOSTILE / "files"
_spec = importlib.util.spec_from_file_location("hostile_make_files", HOSTILE / "make_files.py")
assert _spec is not None and _spec.loader is not None
mf = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mf)
MANIFEST = json.loads((FILES / "MANIFEST.json").read_text())
HOSTILE_FILES = [entry for entry in MANIFEST if entry["class"] != "control"]

#: The issue's bound on any hostile file: seconds, and bytes beyond what the imports take.
ISSUE_SECONDS, ISSUE_BYTES = 2.0, 200 * 10**6
#: Bounds per load, about 3x the worst measured on the shared 2-core machine under other test runs
#: (2026-11-30, load average 2-6): 83 ms (meta_deep_list.npz: the nesting scan of 200 000 characters; most
#: files take 5-20 ms).  Time is the best of up to three loads.
SECONDS = 0.25
#: tracemalloc peak per class, about 3x the worst measured: meta-json 8.3 MB (meta_deep_unclosed.npz: the
#: nesting scan), container 0.41 MB (directory_lists_too_few.npz: zipfile's 1000 ZipInfo), any other 0.12 MB.
PEAK_BYTES = {"meta-json": 25 * 10**6, "container": 1.5 * 10**6}
PEAK_BYTES_OTHERWISE = 0.4 * 10**6

FUZZ = settings(derandomize=True, database=None, deadline=2000, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module", autouse=True)
def warm():
    """Load the valid control once, so that no measured load pays for first-use imports and caches."""
    npl.load(FILES / "valid.npz")


def _peak(path: Path) -> tuple[BaseException | None, float, int]:
    """(what load raised, seconds, tracemalloc peak bytes) of one load under tracemalloc."""
    tracemalloc.start()
    try:
        start = time.perf_counter()
        try:
            npl.load(path)
            raised = None
        except Exception as exc:  # noqa: BLE001 - the caller asserts what it is
            raised = exc
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return raised, seconds, peak


def _best_time(path: Path, bound: float, tries: int = 3) -> float:
    """The fastest of up to ``tries`` loads (stopping at the first within ``bound``): other engineers' test runs
    share the machine, and a bound on the best time is one the code must meet."""
    best = math.inf
    for _ in range(tries):
        start = time.perf_counter()
        try:
            npl.load(path)
        except npl.FormatError:
            pass
        best = min(best, time.perf_counter() - start)
        if best <= bound:
            break
    return best


def assert_refused(path: Path, peak_bound: float, seconds: float = SECONDS) -> str:
    """Load ``path`` under tracemalloc: a FormatError naming the file, within the bounds; returns its message."""
    raised, elapsed, peak = _peak(path)
    assert isinstance(raised, npl.FormatError), f"{path.name}: {type(raised).__name__}: {raised}"
    message = str(raised)
    assert f"load {str(path)!r}" in message, message
    assert peak <= min(peak_bound, ISSUE_BYTES), f"{path.name}: tracemalloc peak {peak / 1e6:.2f} MB ({message})"
    if elapsed > seconds:  # tracemalloc slows Python down: time again without it
        elapsed = _best_time(path, seconds)
    assert elapsed <= min(seconds, ISSUE_SECONDS), f"{path.name}: {elapsed:.3f} s ({message})"
    return message


# -- the corpus ----------------------------------------------------------------------------------------------------
def test_the_manifest_lists_the_corpus_and_it_is_small():
    on_disk = {p.name for p in FILES.glob("*.npz")}
    assert on_disk == {entry["file"] for entry in MANIFEST}
    assert sum(p.stat().st_size for p in FILES.iterdir()) < 1.1 * 10**6
    assert {entry["class"] for entry in HOSTILE_FILES} == {
        "container", "npy-header", "dtype", "shape", "names", "meta-json", "meta-field", "values"}


@pytest.mark.parametrize("entry", HOSTILE_FILES, ids=[entry["file"] for entry in HOSTILE_FILES])
def test_hostile_file_is_refused_in_bounded_time_and_memory(entry):
    path = FILES / entry["file"]
    message = assert_refused(path, PEAK_BYTES.get(entry["class"], PEAK_BYTES_OTHERWISE))
    assert re.search(entry["match"], message), message


def test_the_valid_control_loads_exactly():
    rnn = npl.load(FILES / "valid.npz")
    for key, value in mf.base_arrays().items():
        got = getattr(rnn, key)
        if key in mf.NAMES:
            assert got == tuple(value.tolist())
        else:
            np.testing.assert_array_equal(got, value)
            assert got.dtype == np.float64
    meta = mf.base_meta()
    assert (rnn.name, rnn.gamma, rnn.method, rnn.seed, rnn.info) == (
        meta["name"], meta["gamma"], meta["method"], meta["seed"], meta["info"])


@pytest.mark.parametrize("zip64,listed", [(False, None), (True, None), (False, 17)],
                         ids=["end-record-lists-them", "zip64-end-records", "end-record-lists-17"])
def test_a_hundred_thousand_entries_are_refused_from_the_end_record(tmp_path, zip64, listed):
    """The review's case: 10^5 empty entries took minutes (np.load's per-key lookups are quadratic); refused
    from the zip's end record before zipfile reads the 5 MB directory."""
    path = tmp_path / "many.npz"
    path.write_bytes(mf.many_entries(10**5, listed=listed, zip64=zip64))
    message = assert_refused(path, PEAK_BYTES["container"])
    assert re.search(r"ZIP64 end records|lists 34464 entries|zip directory has \d+ bytes", message), message


def test_the_issue_bound_holds_for_the_whole_process(tmp_path):
    """Every corpus file, and 10^5 entries, in a fresh process: at most 2 s each and 200 MB of resident
    memory beyond the imports (ru_maxrss, a high-water mark, after one warm-up load)."""
    many = tmp_path / "many.npz"
    many.write_bytes(mf.many_entries(10**5))
    paths = [str(FILES / entry["file"]) for entry in HOSTILE_FILES] + [str(many)]
    script = (
        "import json, resource, sys, time\n"
        "import npl_nengo as npl\n"
        f"npl.load({str(FILES / 'valid.npz')!r})\n"
        "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "worst = (0.0, '')\n"
        "for path in json.loads(sys.stdin.read()):\n"
        "    start = time.perf_counter()\n"
        "    try:\n"
        "        npl.load(path)\n"
        "        sys.exit(f'{path} loaded')\n"
        "    except npl.FormatError:\n"
        "        pass\n"
        "    worst = max(worst, (time.perf_counter() - start, path))\n"
        "grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) * 1024\n"
        "print(json.dumps({'grown': grown, 'seconds': worst[0], 'slowest': worst[1]}))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], input=json.dumps(paths), capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["grown"] <= ISSUE_BYTES, report
    assert report["seconds"] <= ISSUE_SECONDS, report


# -- what must still load ------------------------------------------------------------------------------------------
def _write(tmp_path: Path, data: bytes, name: str = "net.npz") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_fortran_order_big_endian_and_float32_arrays_load(tmp_path):
    arrays = mf.base_arrays()
    changes = {"B_rec": np.asfortranarray(arrays["B_rec"]), "d": arrays["d"].astype(">f8"),
               "W": arrays["W"].astype(np.float32), "block_sizes": arrays["block_sizes"].astype(np.float16)}
    rnn = npl.load(_write(tmp_path, mf.network(changes)))
    for key, value in changes.items():
        np.testing.assert_array_equal(getattr(rnn, key), value.astype(np.float64))
        assert getattr(rnn, key).dtype == np.float64


@pytest.mark.parametrize("name", ['[' * 500, '"\\[{' * 200, "\\" * 301 + '"[[['])
def test_brackets_quotes_and_backslashes_inside_strings_do_not_count_as_nesting(tmp_path, name):
    rnn = npl.load(_write(tmp_path, mf.network(meta=mf.with_meta(name=name))))
    assert rnn.name == name


def test_nesting_up_to_the_limit_loads_and_one_more_is_refused(tmp_path):
    # meta (1) > info (2) > lists: MAX_JSON_DEPTH - 2 lists reach the limit
    lists = rnn_module.MAX_JSON_DEPTH - 2
    deep = "[" * lists + "]" * lists
    rnn = npl.load(_write(tmp_path, mf.network(meta=mf.meta_text(mf.base_meta(), info='{"x": ' + deep + "}"))))
    assert "x" in rnn.info
    deeper = "[" * (lists + 1) + "]" * (lists + 1)
    path = _write(tmp_path, mf.network(meta=mf.meta_text(mf.base_meta(), info='{"x": ' + deeper + "}")), "deep.npz")
    assert "nests 33 deep" in assert_refused(path, PEAK_BYTES["meta-json"])


@pytest.mark.parametrize("changes", [{"gamma": rnn_module.GAMMA_RANGE[0]}, {"gamma": rnn_module.GAMMA_RANGE[1]},
                                     {"seed": None}, {"seed": 2**80}, {"info": {}},
                                     {"info": {"activation": {"kind": "tanh"}, "parts": {"p1": {}}}}])
def test_edge_values_of_the_metadata_load(tmp_path, changes):
    rnn = npl.load(_write(tmp_path, mf.network(meta=mf.with_meta(**changes))))
    for key, value in changes.items():
        assert getattr(rnn, key) == value


# -- property-based mutations ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    return tmp_path_factory.mktemp("hostile")


NOT_A_NUMBER = st.one_of(st.none(), st.booleans(), st.text(max_size=12), st.lists(st.integers(), max_size=3),
                         st.dictionaries(st.text(max_size=4), st.integers(), max_size=2))
NON_FINITE = st.sampled_from([math.nan, math.inf, -math.inf])


def _not_above(low: float, inclusive: bool) -> st.SearchStrategy:
    """Numbers a check ``> low`` (``inclusive``: ``>= low``) must refuse, and everything that is not a number."""
    return st.one_of(NOT_A_NUMBER, NON_FINITE, st.floats(max_value=low, exclude_max=inclusive, allow_nan=False),
                     st.integers(max_value=math.ceil(low) - 1 if inclusive else math.floor(low)))


BAD_GAMMA = st.one_of(_not_above(rnn_module.GAMMA_RANGE[0], inclusive=False),
                      st.floats(min_value=rnn_module.GAMMA_RANGE[1], exclude_min=True),
                      st.integers(min_value=int(rnn_module.GAMMA_RANGE[1]) + 1))
BAD_TEXT = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.lists(st.text(max_size=3), max_size=2),
                     st.integers(rnn_module.MAX_NAME_CHARS + 1, 3 * rnn_module.MAX_NAME_CHARS).map(lambda n: "n" * n),
                     st.sampled_from(["\ud800", "a\udfff"]))
BAD_SEED = st.one_of(st.integers(max_value=-1), st.floats(), st.booleans(), st.text(max_size=5),
                     st.lists(st.integers(), max_size=2))
BAD_VERSION = st.one_of(st.integers().filter(lambda v: v != 1), st.floats(), st.booleans(), st.text(max_size=5),
                        st.none(), st.just([1]))
NOT_AN_OBJECT = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=5),
                          st.lists(st.integers(), max_size=3))


@st.composite
def meta_mutations(draw) -> tuple[object, str]:
    """(metadata as a dict or JSON text, a pattern the error must match) for one invalid field."""
    meta = mf.base_meta()
    info, activation = meta["info"], meta["info"]["activation"]
    kind = draw(st.sampled_from(["gamma", "seed", "version", "format", "name", "method", "info", "activation",
                                 "activation-kind", "lif", "parts", "relaxation_rate", "missing", "deep",
                                 "not-an-object"]))
    if kind == "gamma":
        meta["gamma"] = draw(BAD_GAMMA)
        return meta, r"meta gamma must be"
    if kind == "seed":
        meta["seed"] = draw(BAD_SEED)
        return meta, r"meta seed must be"
    if kind == "version":
        meta["version"] = draw(BAD_VERSION)
        return meta, r"format version .* is not supported"
    if kind == "format":
        meta["format"] = draw(st.one_of(st.text(max_size=30), NOT_AN_OBJECT).filter(lambda f: f != mf.FORMAT_NAME))
        return meta, r"not an npl_nengo network file \(format"
    if kind in ("name", "method"):
        meta[kind] = draw(BAD_TEXT)
        return meta, rf"meta {kind} must be a text"
    if kind == "info":
        meta["info"] = draw(NOT_AN_OBJECT)
        return meta, r"meta info must be an object"
    if kind == "activation":
        info["activation"] = draw(NOT_AN_OBJECT)
        return meta, r"meta info\.activation must be an object"
    if kind == "activation-kind":
        activation["kind"] = draw(st.one_of(st.text(max_size=8), NOT_AN_OBJECT).filter(lambda k: k not in ("tanh", "lif")))
        return meta, r"meta info\.activation must be an object of kind"
    if kind == "lif":
        key = draw(st.sampled_from(["tau_rc", "tau_ref", "amplitude"]))
        if draw(st.booleans()):
            del activation[key]
        else:
            activation[key] = draw(_not_above(0.0, inclusive=key == "tau_ref"))
        return meta, rf"meta info\.activation\.{key} must be a finite number"
    if kind == "parts":
        info["parts"] = draw(st.one_of(NOT_AN_OBJECT.filter(lambda p: not isinstance(p, dict)),
                                       st.dictionaries(st.text(max_size=4), NOT_AN_OBJECT, min_size=1, max_size=3)))
        return meta, r"meta info\.parts must be an object of objects"
    if kind == "relaxation_rate":
        info["parts"]["p2"]["relaxation_rate"] = draw(_not_above(0.0, inclusive=False))
        return meta, r"meta info\.parts\['p2'\]\.relaxation_rate must be a finite number"
    if kind == "missing":
        key = draw(st.sampled_from(["name", "gamma", "method", "seed", "info", "format", "version"]))
        del meta[key]
        return meta, rf"malformed \(no '{key}'\)|format None|format version None"
    if kind == "deep":  # opening brackets and objects, closed or not, where info was
        opens = draw(st.lists(st.sampled_from(["[", '{"k": ', "[1, "]), min_size=32, max_size=3000))
        closes = "".join("]" if o.startswith("[") else "}" for o in reversed(opens)) if draw(st.booleans()) else ""
        return mf.meta_text(meta, info="".join(opens) + "0" + closes), r"'meta' entry nests \d+ deep"
    return json.dumps(draw(NOT_AN_OBJECT)), r"not an npl_nengo network file \(format None\)"


@settings(FUZZ, max_examples=100)
@given(mutation=meta_mutations())
def test_metadata_mutations_are_refused(scratch, mutation):
    meta, pattern = mutation
    path = _write(scratch, mf.network(meta=meta), "meta.npz")
    message = assert_refused(path, PEAK_BYTES["meta-json"])
    assert re.search(pattern, message), message


WRONG_DTYPES = {
    "float": ["|i1", "<i2", "<i4", "<i8", "|u1", "<u8", "|b1", "<c8", "<c16", "<U4", "|S4", "|V8", "|O", "<m8[s]",
              "<M8[D]", [("a", "<f8")]],
    "names": ["<f8", "|S8", "<i4", "|b1", "|V4", "<c16", "|O"],
    "meta": ["<f8", "|S400", "<i8", "|V8", "|O"],
}


@st.composite
def header_mutations(draw) -> tuple[str, bytes]:
    """(field, the base network with that field's .npy header declaring another dtype or shape), the zip directory
    declaring what the header does where the data would be too large to write."""
    key = draw(st.sampled_from([*mf.FLOATS, *mf.NAMES, "meta"]))
    group = "float" if key in mf.FLOATS else "names" if key in mf.NAMES else "meta"
    base = mf.base_arrays()[key] if key != "meta" else np.array(json.dumps(mf.base_meta()))
    if draw(st.booleans()):
        descr, shape = draw(st.sampled_from(WRONG_DTYPES[group])), base.shape
    else:
        descr = np.lib.format.dtype_to_descr(base.dtype)
        shape = draw(st.lists(st.integers(0, 2**40), max_size=4).map(tuple).filter(lambda s: s != base.shape))
    header = mf.npy_header(descr, shape)
    nbytes = math.prod(shape) * np.dtype(descr).itemsize
    if nbytes <= 2**16:
        return key, mf.network({key: header + bytes(nbytes)})
    data = mf.network({key: header})
    if len(header) + nbytes < 2**32:
        data = mf.declare(data, {f"{key}.npy": len(header) + nbytes})
    return key, data


@settings(FUZZ, max_examples=100)
@given(mutation=header_mutations())
def test_header_mutations_are_refused_before_reading_data(scratch, mutation):
    key, data = mutation
    path = _write(scratch, data, "header.npz")
    message = assert_refused(path, PEAK_BYTES_OTHERWISE)
    fields = [*mf.FLOATS, *mf.NAMES, "meta", "the arrays would take", "the name lists take"]
    assert any(field in message for field in fields), message


@settings(FUZZ, max_examples=30)
@given(n=st.integers(18, 3000), listed=st.one_of(st.none(), st.integers(0, 17), st.integers(18, 2**16 - 1)),
       zip64=st.booleans())
def test_zip_directory_mutations_are_refused(scratch, n, listed, zip64):
    path = _write(scratch, mf.many_entries(n, listed=listed, zip64=zip64), "many.npz")
    message = assert_refused(path, PEAK_BYTES["container"])
    assert re.search(r"ZIP64 end records|the zip directory (lists \d+ entries|has \d+ bytes)", message), message


@settings(FUZZ, max_examples=30)
@given(field=st.sampled_from([*mf.FLOATS, *mf.NAMES]),
       name=st.text(min_size=1, max_size=40).filter(lambda s: "\0" not in s and s not in rnn_module._MEMBERS))
def test_unknown_entry_names_are_refused(scratch, field, name):
    members = mf.base_members()
    members[name] = members.pop(f"{field}.npy")
    path = _write(scratch, mf.zip_bytes(members), "unknown.npz")
    message = assert_refused(path, PEAK_BYTES["container"])
    assert "unknown entry" in message, message


JSON_TEXT = st.text(alphabet=st.sampled_from('ab "\\[]{}:,\u00e9\U0001f600'), max_size=8)
JSON_VALUES = st.recursive(st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | JSON_TEXT,
                           lambda children: st.lists(children, max_size=3)
                           | st.dictionaries(JSON_TEXT, children, max_size=3), max_leaves=40)


def _depth(value) -> int:
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    return 0


@settings(FUZZ, max_examples=150)
@given(value=JSON_VALUES, ascii_only=st.booleans())
def test_the_nesting_scan_agrees_with_the_parser(value, ascii_only):
    """The vectorized scan that bounds json.loads' recursion sees exactly the nesting the parser builds, whatever
    quotes, backslashes and brackets the strings hold."""
    text = json.dumps(value, ensure_ascii=ascii_only)
    codes = np.frombuffer(text.encode("utf-32-le"), dtype="<u4")
    assert rnn_module._json_depth(codes) == _depth(json.loads(text))
