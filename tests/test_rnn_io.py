"""ProgrammedRNN files: bit-exact round trip, full validation, no pickle, atomic writes."""

import io
import pickle
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import npl_nengo as npl
from npl_nengo.networks import logic
from npl_nengo.rnn import _ARRAYS


@pytest.fixture(scope="module")
def adder():
    return npl.compile(logic.full_adder(), n_neurons=30, method="sampled", seed=4)


def test_round_trip_is_bit_exact(tmp_path, adder):
    path = adder.save(tmp_path / "fa.npz")
    back = npl.load(path)
    for key in _ARRAYS:
        np.testing.assert_array_equal(getattr(back, key), getattr(adder, key), err_msg=key)
        assert getattr(back, key).dtype == getattr(adder, key).dtype
    for key in ("name", "gamma", "method", "seed", "signal_names", "input_names", "output_names", "block_names", "info"):
        assert getattr(back, key) == getattr(adder, key), key
    a = npl.run(adder, {"a": 0.1, "b": -0.1, "cin": 0.1}, duration=0.2)
    b = npl.run(back, {"a": 0.1, "b": -0.1, "cin": 0.1}, duration=0.2)
    np.testing.assert_array_equal(a["sum"], b["sum"])


def test_taylor_round_trip(tmp_path, nand30):
    back = npl.ProgrammedRNN.load(nand30.save(tmp_path / "nand"))  # suffix added
    np.testing.assert_array_equal(back.W, nand30.W)
    assert (tmp_path / "nand.npz").exists()


def test_immutable(nand30):
    with pytest.raises(ValueError):
        nand30.W[0, 0] = 1.0
    with pytest.raises(AttributeError):
        nand30.gamma = 5.0


def test_no_silent_overwrite(tmp_path, nand30, adder):
    path = nand30.save(tmp_path / "x.npz")
    with pytest.raises(npl.ValidationError, match="exists; pass overwrite=True"):
        adder.save(path)
    assert npl.load(path).name == "nand"
    adder.save(path, overwrite=True)
    assert npl.load(path).name == "full_adder"
    assert [p.name for p in tmp_path.iterdir()] == ["x.npz"]  # no temporary files left


def _rewrite(path, **changes):
    with np.load(path, allow_pickle=False) as data:
        contents = {k: data[k] for k in data.files}
    contents.update(changes)
    for k, v in list(contents.items()):
        if v is None:
            del contents[k]
    np.savez(path, **contents)


@pytest.mark.parametrize(
    "change,match",
    [
        ({"W": None}, "missing array 'W'"),
        ({"d": np.zeros(7)}, "has shape .*, expected"),
        ({"W_rec": np.full((5, 150), np.nan)}, "W_rec holds non-finite"),
        ({"meta": np.array("{not json")}, "not valid JSON"),
        ({"meta": np.array('{"format": "other"}')}, "not an npl_nengo network file"),
        ({"meta": np.array('{"format": "npl_nengo.ProgrammedRNN", "version": 99}')}, "format version 99"),
        ({"input_names": np.array([1, 2, 3])}, "not a list of names"),
        ({"W": np.array(["a"])}, "dtype"),
        ({"B_rec": np.zeros((150, 5), dtype=np.int8)}, "array 'B_rec' has dtype int8, expected floats"),
        ({"block_sizes": np.array([150])}, "array 'block_sizes' has dtype int64"),
        ({"evil": np.zeros(3)}, "the zip directory lists 18 entries"),
    ],
)
def test_corrupt_contents_are_refused(tmp_path, adder, change, match):
    path = adder.save(tmp_path / "c.npz")
    _rewrite(path, **change)
    with pytest.raises(npl.FormatError, match=match):
        npl.load(path)


def test_truncated_foreign_and_missing_files(tmp_path, adder):
    path = adder.save(tmp_path / "t.npz")
    data = path.read_bytes()
    (tmp_path / "trunc.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(npl.FormatError, match="not a readable"):
        npl.load(tmp_path / "trunc.npz")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(npl.FormatError):
        npl.load(tmp_path / "text.npz")
    np.savez(tmp_path / "foreign.npz", x=np.arange(3))
    with pytest.raises(npl.FormatError, match="no 'meta'"):
        npl.load(tmp_path / "foreign.npz")
    with pytest.raises(npl.FormatError, match="no such file"):
        npl.load(tmp_path / "absent.npz")


class _Payload:
    def __reduce__(self):
        return (open, ("/tmp/npl_pickle_pwned", "w"))


def test_pickle_payload_is_never_executed(tmp_path):
    import os

    path = tmp_path / "evil.npz"
    buf = io.BytesIO()
    np.save(buf, np.array([_Payload()], dtype=object), allow_pickle=True)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("meta.npy", buf.getvalue())
        zf.writestr("W.npy", buf.getvalue())
    with pytest.raises(npl.FormatError):
        npl.load(path)
    assert not os.path.exists("/tmp/npl_pickle_pwned")
    with pytest.raises(Exception):
        pickle.loads(b"not used")  # sanity: the payload path above never unpickles


def test_zip_bomb_and_lying_headers_are_refused_before_decompressing(tmp_path, monkeypatch):
    from npl_nengo import rnn as rnn_module

    bomb = tmp_path / "bomb.npz"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        with zf.open("W.npy", "w", force_zip64=True) as fh:  # 64 MiB of zeros, a few kB on disk
            np.lib.format.write_array_header_1_0(fh, {"descr": "<f8", "fortran_order": False, "shape": (8 * 1024**2,)})
            for _ in range(64):
                fh.write(bytes(1024**2))
    assert bomb.stat().st_size < 1024**2
    monkeypatch.setattr(rnn_module, "MAX_FILE_BYTES", 32 * 1024**2)
    with pytest.raises(npl.FormatError, match="would take 0.0671 GB"):
        npl.load(bomb)
    liar = tmp_path / "liar.npz"  # the header claims 10^12 floats, the entry holds 24 bytes
    with zipfile.ZipFile(liar, "w") as zf:
        buf = io.BytesIO()
        np.lib.format.write_array_header_1_0(buf, {"descr": "<f8", "fortran_order": False, "shape": (10**12,)})
        zf.writestr("W.npy", buf.getvalue() + bytes(24))
    with pytest.raises(npl.FormatError, match="declares shape \\(1000000000000,\\)"):
        npl.load(liar)


def test_object_arrays_are_refused_by_their_header(tmp_path):
    path = tmp_path / "objects.npz"
    np.savez(path, meta=np.array(["x"], dtype=object), W=np.zeros(3))
    with pytest.raises(npl.FormatError, match="'meta.npy' holds Python objects"):
        npl.load(path)


def test_a_directory_is_not_a_network(tmp_path):
    with pytest.raises(npl.FormatError, match="not a regular file"):
        npl.load(tmp_path)


@pytest.mark.parametrize("fault", [KeyboardInterrupt, OSError("disk full")])
def test_an_interrupted_save_keeps_the_old_file(tmp_path, nand30, adder, monkeypatch, fault):
    path = nand30.save(tmp_path / "net.npz")
    before = path.read_bytes()

    def half_then_fail(fh, **arrays):
        fh.write(b"PK\x03\x04 half a zip")
        raise fault

    monkeypatch.setattr(np, "savez_compressed", half_then_fail)
    with pytest.raises(type(fault) if isinstance(fault, Exception) else fault):
        adder.save(path, overwrite=True)
    assert path.read_bytes() == before and npl.load(path).name == "nand"
    assert [p.name for p in tmp_path.iterdir()] == ["net.npz"]  # the partial temporary file is gone


@settings(derandomize=True, database=None, deadline=None, max_examples=300)
@given(st.data())
def test_damaged_files_load_or_fail_cleanly(tmp_path_factory, nand30, data):
    """Random byte flips, truncations and insertions: only a network or a FormatError, never another error."""
    path = tmp_path_factory.mktemp("damaged") / "n.npz"
    if not path.exists():
        nand30.save(path)
    raw = bytearray(path.read_bytes())
    kind = data.draw(st.sampled_from(["flip", "truncate", "insert"]))
    at = data.draw(st.integers(0, len(raw) - 1))
    if kind == "flip":
        raw[at] ^= data.draw(st.integers(1, 255))
    elif kind == "truncate":
        raw = raw[:at]
    else:
        raw[at:at] = data.draw(st.binary(min_size=1, max_size=64))
    damaged = path.with_name("damaged.npz")
    damaged.write_bytes(bytes(raw))
    try:
        rnn = npl.load(damaged)
    except npl.FormatError:
        return
    assert rnn.n_neurons == nand30.n_neurons  # a damage the format tolerates (e.g. in padding) changes nothing
    np.testing.assert_array_equal(rnn.W, nand30.W)


def test_max_bytes_bounds_what_load_reads(tmp_path, nand30):
    """A file whose headers all agree is read in full: max_bytes (default 128 MiB) bounds that cost."""
    path = nand30.save(tmp_path / "nand.npz")
    assert npl.load(path, max_bytes=10**6).n_neurons == 30
    with pytest.raises(npl.FormatError, match=r"the arrays would take .* GB .*\(limit 1e-06 GB"):
        npl.load(path, max_bytes=1000)
    with pytest.raises(npl.ValidationError, match="max_bytes must be a positive integer"):
        npl.load(path, max_bytes=0)
