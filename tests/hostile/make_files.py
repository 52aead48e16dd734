"""Regenerate the corpus of hostile network files in tests/hostile/files/: ``python tests/hostile/make_files.py``.

Each file is a network file (the ``.npz`` that ``ProgrammedRNN.save`` writes) crafted or damaged in one way;
``files/MANIFEST.json`` lists, for each, its class and a pattern that the :class:`npl_nengo.FormatError` it must
raise matches (the field at fault).  ``valid.npz`` is the undamaged control every other file is derived from.
tests/test_hostile_files.py loads every file under time and memory bounds, and uses the builders below for its
property-based mutations and for the files too large to commit (10^5 zip entries).

The bytes are reproducible (fixed values and zip timestamps) and nothing here imports npl_nengo: the corpus
is data, written with numpy and zipfile only, so a change to the library cannot silently change it.
"""

from __future__ import annotations

import functools
import io
import json
import struct
import sys
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

FILES = Path(__file__).resolve().parent / "files"
FORMAT_NAME = "npl_nengo.ProgrammedRNN"
FLOATS = ("B_rec", "W_rec", "B_ext", "d", "r_star", "W", "input_ranges", "output_ranges", "signal_initial",
          "residual", "noise_gain", "block_sizes")
NAMES = ("signal_names", "input_names", "output_names", "block_names")
_DATE = (1980, 1, 1, 0, 0, 0)
# zip records (APPNOTE.TXT): local file header, central directory header, end of central directory
_LOCAL = struct.Struct("<4s2B4HL2L2H")
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
_END = struct.Struct("<4s4H2LH")


# -- a valid network, as save writes it -------------------------------------------------------------------------
def base_arrays() -> dict[str, np.ndarray]:
    """A small valid network: N=6 neurons in two parts of 3, k=2 signals, 2 inputs, 1 output."""
    rng = np.random.default_rng(20240)
    d = rng.uniform(-0.5, 0.5, 6)
    W = rng.normal(size=(1, 6))
    return {
        "B_rec": rng.normal(size=(6, 2)), "W_rec": rng.normal(size=(2, 6)), "B_ext": rng.normal(size=(6, 2)),
        "d": d, "r_star": np.tanh(d), "W": W,
        "input_ranges": np.array([[-1.0, 1.0], [-0.5, 0.5]]), "output_ranges": np.array([[np.nan, np.nan]]),
        "signal_initial": np.array([0.1, np.nan]), "residual": np.array([0.01]),
        "noise_gain": np.linalg.norm(W, axis=1), "block_sizes": np.array([3.0, 3.0]),
        "signal_names": np.array(["p1.x", "p2.y"]), "input_names": np.array(["u", "v"]),
        "output_names": np.array(["o"]), "block_names": np.array(["p1", "p2"]),
    }


def base_meta() -> dict[str, Any]:
    """The metadata of :func:`base_arrays` (LIF units, so that every field the library reads is present)."""
    return {
        "format": FORMAT_NAME, "version": 1, "name": "hostile-base", "gamma": 100.0, "method": "sampled", "seed": 7,
        "info": {"library_version": "0.1.0",
                 "parts": {"p1": {"n_neurons": 3, "relaxation_rate": 10.0},
                           "p2": {"n_neurons": 3, "relaxation_rate": 12.0}},
                 "activation": {"kind": "lif", "tau_rc": 0.02, "tau_ref": 0.002, "amplitude": 0.0025}},
    }


def npy(arr: Any) -> bytes:
    """``arr`` as a .npy file (numpy's writer; no pickle)."""
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asanyarray(arr), allow_pickle=False)
    return buf.getvalue()


def npy_header(descr: Any, shape: tuple, fortran: bool = False, version: tuple[int, int] = (1, 0)) -> bytes:
    """A .npy header declaring any ``descr`` and ``shape`` (numpy's writer formats whatever it is given)."""
    buf = io.BytesIO()
    writer = np.lib.format.write_array_header_1_0 if version == (1, 0) else np.lib.format.write_array_header_2_0
    writer(buf, {"descr": descr, "fortran_order": fortran, "shape": shape})
    return buf.getvalue()


def meta_npy(meta: Any) -> bytes:
    """The 'meta' entry: a dict as JSON (NaN and Infinity as Python's json writes them), a str as it is."""
    return npy(np.array(meta if isinstance(meta, str) else json.dumps(meta)))


def base_members() -> dict[str, bytes]:
    """Entry name -> bytes of :func:`base_arrays` and :func:`base_meta`, in the order save writes them."""
    return dict(_base_members())


@functools.lru_cache(maxsize=1)
def _base_members() -> tuple[tuple[str, bytes], ...]:
    members = [(f"{key}.npy", npy(value)) for key, value in base_arrays().items()]
    return (*members, ("meta.npy", meta_npy(base_meta())))


def zip_bytes(members: dict[str, bytes] | list[tuple[str, bytes]], compress: bool = True) -> bytes:
    """A zip of ``members`` (deflated like ``savez_compressed``, or stored), with fixed timestamps."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in (members.items() if isinstance(members, dict) else members):
            info = zipfile.ZipInfo(name, date_time=_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
            zf.writestr(info, data)
    return buf.getvalue()


def network(changes: dict[str, Any] | None = None, meta: Any = None, compress: bool = True) -> bytes:
    """The base network with entries replaced (``key: array``, ``key: bytes`` as they are, ``key: None`` removed)
    and optionally other metadata (a dict, or the JSON text)."""
    members = base_members()
    for key, value in (changes or {}).items():
        if value is None:
            del members[f"{key}.npy"]
        else:
            members[f"{key}.npy"] = value if isinstance(value, bytes) else npy(value)
    if meta is not None:
        members["meta.npy"] = meta_npy(meta)
    return zip_bytes(members, compress)


# -- editing a zip's records ------------------------------------------------------------------------------------
def _central_entries(data: bytes) -> list[tuple[int, str]]:
    """(offset, name) of each central directory header of a zip written by :func:`zip_bytes`."""
    end = data.rindex(b"PK\x05\x06")
    _, _, _, _, count, _, offset, _ = _END.unpack_from(data, end)
    entries = []
    for _ in range(count):
        fields = _CENTRAL.unpack_from(data, offset)
        name = data[offset + _CENTRAL.size:offset + _CENTRAL.size + fields[12]].decode()
        entries.append((offset, name))
        offset += _CENTRAL.size + fields[12] + fields[13] + fields[14]
    return entries


def patch_entry(data: bytes, name: str, *, file_size: int | None = None, compress_size: int | None = None,
                flags: int | None = None, method: int | None = None, local_name: bytes | None = None) -> bytes:
    """Rewrite what the zip's records say of entry ``name``: its uncompressed size (the directory then declares
    data the entry does not hold: a bomb, or a header's lie made consistent), its compressed size, flag bits,
    compression method, or the name in its local header."""
    out = bytearray(data)
    for offset, entry in _central_entries(data):
        if entry != name:
            continue
        local = struct.unpack_from("<L", data, offset + 42)[0]
        if file_size is not None:
            struct.pack_into("<L", out, offset + 24, file_size)
            struct.pack_into("<L", out, local + 22, file_size)
        if compress_size is not None:
            struct.pack_into("<L", out, offset + 20, compress_size)
            struct.pack_into("<L", out, local + 18, compress_size)
        if flags is not None:
            struct.pack_into("<H", out, offset + 8, flags)
            struct.pack_into("<H", out, local + 6, flags)
        if method is not None:
            struct.pack_into("<H", out, offset + 10, method)
            struct.pack_into("<H", out, local + 8, method)
        if local_name is not None:
            assert len(local_name) == len(name)
            out[local + 30:local + 30 + len(name)] = local_name
        return bytes(out)
    raise KeyError(name)


def declare(data: bytes, sizes: dict[str, int]) -> bytes:
    """Make each entry's directory size that of its header's declared shape (``sizes``: entry -> bytes)."""
    for name, size in sizes.items():
        data = patch_entry(data, name, file_size=size)
    return data


def lying_entry(descr: Any, shape: tuple) -> tuple[bytes, int]:
    """A .npy entry of a header alone, and the size the directory must declare to match it."""
    header = npy_header(descr, shape)
    n = 1
    for dim in shape:
        n *= dim
    return header, len(header) + n * np.dtype(descr).itemsize


def int8_bomb(n: int) -> bytes:
    """The base network with W an int8 array of ``n`` zeros, deflated (about n/1000 bytes on disk): what
    converting it to float64 would cost, 8n bytes, is what a reader must refuse from its header."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in base_members().items():
            info = zipfile.ZipInfo(name, date_time=_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            if name != "W.npy":
                zf.writestr(info, data)
                continue
            with zf.open(info, "w", force_zip64=False) as fh:
                fh.write(npy_header("|i1", (1, n)))
                chunk = bytes(2**20)
                for start in range(0, n, len(chunk)):
                    fh.write(chunk[: min(len(chunk), n - start)])
    return buf.getvalue()


def many_entries(n: int, listed: int | None = None, zip64: bool = False) -> bytes:
    """A zip of ``n`` empty entries named ``0.npy``, ``1.npy``...: its end record lists ``listed`` (default ``n``,
    16 bits), or ZIP64 end records list it.  Built from the records directly: 10^5 entries take 0.2 s."""
    local, central, offset = [], [], 0
    for i in range(n):
        name = b"%d.npy" % i
        header = _LOCAL.pack(b"PK\x03\x04", 20, 0, 0, 0, 0, 0x21, 0, 0, 0, len(name), 0) + name
        central.append(_CENTRAL.pack(b"PK\x01\x02", 20, 3, 20, 0, 0, 0, 0, 0x21, 0, 0, 0, len(name), 0, 0, 0, 0, 0,
                                     offset) + name)
        local.append(header)
        offset += len(header)
    directory = b"".join(central)
    listed = n if listed is None else listed
    tail = b""
    if zip64:
        tail = struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, listed, listed, len(directory), offset)
        tail += struct.pack("<4sLQL", b"PK\x06\x07", 0, offset + len(directory), 1)
        end = _END.pack(b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    else:
        end = _END.pack(b"PK\x05\x06", 0, 0, listed & 0xFFFF, listed & 0xFFFF, len(directory), offset, 0)
    return b"".join(local) + directory + tail + end


def with_directory_size(data: bytes, size: int) -> bytes:
    """``data`` with its end record declaring a central directory of ``size`` bytes."""
    out = bytearray(data)
    struct.pack_into("<L", out, data.rindex(b"PK\x05\x06") + 12, size)
    return bytes(out)


def flip_data_byte(data: bytes, name: str) -> bytes:
    """A stored (uncompressed) zip with one byte of ``name``'s array data changed: its CRC no longer matches."""
    out = bytearray(data)
    for offset, entry in _central_entries(data):
        if entry == name:
            local = struct.unpack_from("<L", data, offset + 42)[0]
            start = local + _LOCAL.size + len(name) + 128  # the .npy header numpy writes is 128 bytes
            out[start + 3] ^= 0x10
            return bytes(out)
    raise KeyError(name)


def meta_text(meta: dict[str, Any], **raw: str) -> str:
    """JSON of ``meta`` with the values of ``raw``'s fields written as the given JSON text (numbers beyond the
    int conversion limit, deep nesting): ``meta_text(m, seed="9" * 5000)``."""
    placeholders = {}
    meta = dict(meta)
    for key, text in raw.items():
        placeholders[f'"@@{key}@@"'] = text
        meta[key] = f"@@{key}@@"
    out = json.dumps(meta)
    for placeholder, text in placeholders.items():
        out = out.replace(placeholder, text)
    return out


def with_info(**changes: Any) -> dict[str, Any]:
    """:func:`base_meta` with ``info`` fields changed (``None`` removes one)."""
    meta = base_meta()
    for key, value in changes.items():
        if value is None:
            meta["info"].pop(key, None)
        else:
            meta["info"][key] = value
    return meta


def with_meta(**changes: Any) -> dict[str, Any]:
    """:func:`base_meta` with fields changed; ``_drop=key`` removes one."""
    meta = base_meta()
    drop = changes.pop("_drop", None)
    meta.update(changes)
    if drop is not None:
        del meta[drop]
    return meta


def lif(**changes: Any) -> dict[str, Any]:
    activation = {**base_meta()["info"]["activation"], **changes}
    return with_info(activation={k: v for k, v in activation.items() if v is not None})


# -- the corpus ----------------------------------------------------------------------------------------------------
def corpus() -> list[tuple[str, str, str, bytes]]:
    """(file name, class, pattern of the FormatError, bytes) of every file in the corpus."""
    valid = network()
    arrays = base_arrays()
    files: list[tuple[str, str, str, bytes]] = [("valid.npz", "control", "", valid)]

    def add(name: str, kind: str, match: str, data: bytes) -> None:
        files.append((name, kind, match, data))

    # zip container and directory
    add("empty.npz", "container", "no zip directory", b"")
    add("not_a_zip.npz", "container", "no zip directory", b"hello, not a network\n" * 4)
    add("truncated.npz", "container", "not a readable|no zip directory", valid[: len(valid) // 2])
    add("many_members.npz", "container", "the zip directory lists 1000 entries", many_entries(1000))
    add("directory_lists_too_few.npz", "container", "the zip directory lists 1000 entries",
        many_entries(1000, listed=17))
    add("directory_too_large.npz", "container", "the zip directory has 1000000000 bytes",
        with_directory_size(valid, 10**9))
    add("zip64_end_records.npz", "container", "ZIP64 end records", many_entries(3, listed=10**6, zip64=True))
    others = {name: data for name, data in base_members().items() if name != "residual.npy"}  # 16 entries
    add("unknown_member.npz", "container", "unknown entry 'evil.npy'",
        zip_bytes({**others, "evil.npy": npy(np.zeros(3))}))
    add("duplicate_member.npz", "container", "appears more than once",
        zip_bytes([*others.items(), ("W.npy", npy(arrays["W"]))]))
    add("missing_member.npz", "container", "missing array 'B_rec'", network({"B_rec": None}))
    add("no_meta.npz", "container", "no 'meta' entry", network({"meta": None}))
    add("bomb_declared.npz", "container", r"the arrays would take 3(\.\d+)? GB \(limit",
        patch_entry(valid, "W.npy", file_size=3 * 10**9))
    add("compressed_size_beyond_file.npz", "container", r"entry 'W\.npy' declares 100000000 compressed bytes",
        patch_entry(network(compress=False), "W.npy", compress_size=100_000_000, file_size=100_000_000))
    add("crc_mismatch.npz", "container", r"entry 'd\.npy' is not readable \(BadZipFile: .?Bad CRC",
        flip_data_byte(network(compress=False), "d.npy"))
    add("encrypted_member.npz", "container", r"entry 'W\.npy' is not readable \(RuntimeError",
        patch_entry(valid, "W.npy", flags=0x1))
    add("unknown_compression.npz", "container", r"entry 'W\.npy' is not readable \(NotImplementedError",
        patch_entry(valid, "W.npy", method=99))
    add("local_name_differs.npz", "container", r"entry 'W\.npy' is not readable \(BadZipFile: .?File name in directory",
        patch_entry(valid, "W.npy", local_name=b"X.npy"))

    # .npy headers
    add("npy_not_npy.npz", "npy-header", r"entry 'W\.npy' is not a \.npy array", network({"W": b"garbage"}))
    add("npy_version_9.npz", "npy-header", r"entry 'W\.npy' has \.npy format version \(9, 9\)",
        network({"W": b"\x93NUMPY\x09\x09" + npy(arrays["W"])[8:]}))
    add("npy_header_length_4gb.npz", "npy-header", r"entry 'W\.npy' has a 4294967295-byte \.npy header",
        network({"W": b"\x93NUMPY\x02\x00\xff\xff\xff\xff{'descr'"}))
    add("npy_header_length_64kb.npz", "npy-header", r"entry 'd\.npy' has a 65535-byte \.npy header",
        network({"d": b"\x93NUMPY\x01\x00\xff\xff" + b" " * 65535}))
    add("npy_header_garbage.npz", "npy-header", r"entry 'W\.npy' has a damaged \.npy header",
        network({"W": b"\x93NUMPY\x01\x00\x76\x00" + b"{'descr': <f8, 'shape': (1, 6)}".ljust(117) + b"\n"}))
    add("npy_header_nested.npz", "npy-header", r"entry 'd\.npy' has a damaged \.npy header",
        network({"d": b"\x93NUMPY\x01\x00" + struct.pack("<H", 1024)
                 + ("{'descr': '<f8', 'fortran_order': False, 'shape': " + "(" * 300 + ")" * 300 + ", }")
                 .ljust(1023).encode() + b"\n"}))
    add("npy_header_truncated.npz", "npy-header", r"entry 'W\.npy' has a damaged \.npy header",
        network({"W": npy(arrays["W"])[:60]}))
    add("npy_pickle_object.npz", "npy-header", r"entry 'meta\.npy' holds Python objects",
        network({"meta": npy_header("|O", (1,)) + b"\x80\x04N."}))
    add("npy_negative_dim.npz", "npy-header", r"entry 'd\.npy' declares shape \(-6,\)",
        network({"d": npy_header("<f8", (-6,))}))
    add("npy_zero_itemsize.npz", "npy-header", r"entry 'signal_names\.npy' declares shape",
        network({"signal_names": npy_header("<U0", (2,))}))
    add("npy_more_than_held.npz", "npy-header", r"entry 'W\.npy' declares shape \(1000000000000,\) of float64, more",
        network({"W": npy_header("<f8", (10**12,)) + bytes(48)}))
    add("npy_trailing_bytes.npz", "npy-header", r"entry 'd\.npy' holds 8 bytes beyond its declared shape",
        network({"d": npy(arrays["d"]) + bytes(8)}))

    # dtypes where floats are meant
    add("dtype_int8_bomb.npz", "dtype", r"array 'W' has dtype int8, expected floats", int8_bomb(100_000_000))
    add("dtype_int64.npz", "dtype", r"array 'B_rec' has dtype int64", network({"B_rec": np.ones((6, 2), np.int64)}))
    add("dtype_bool.npz", "dtype", r"array 'd' has dtype bool", network({"d": np.zeros(6, bool)}))
    add("dtype_complex.npz", "dtype", r"array 'W_rec' has dtype complex128",
        network({"W_rec": arrays["W_rec"].astype(complex)}))
    add("dtype_float128.npz", "dtype", r"array 'r_star' has dtype float128|entry 'r_star\.npy' has a damaged",
        network({"r_star": npy_header("<f16", (6,)) + bytes(96)}))
    add("dtype_text.npz", "dtype", r"array 'residual' has dtype <U3", network({"residual": np.array(["abc"])}))
    add("dtype_structured.npz", "dtype", r"array 'd' has dtype",
        network({"d": np.zeros(6, dtype=[("a", "<f8")])}))
    add("dtype_block_sizes_int.npz", "dtype", r"array 'block_sizes' has dtype int64",
        network({"block_sizes": np.array([3, 3])}))

    # shapes against each other (N from d, k, inputs, outputs, parts from the name lists)
    add("shape_B_rec.npz", "shape", r"B_rec has shape \(6, 3\), expected \(6, 2\)",
        network({"B_rec": np.zeros((6, 3))}))
    add("shape_W_3d.npz", "shape", r"W has shape \(1, 6, 1\), expected \(1, 6\)", network({"W": np.zeros((1, 6, 1))}))
    add("shape_d_2d.npz", "shape", r"d must be a non-empty vector", network({"d": np.zeros((6, 1))}))
    add("shape_d_empty.npz", "shape", r"d must be a non-empty vector", network({"d": np.zeros(0)}))
    add("shape_r_star.npz", "shape", r"r_star has shape \(7,\), expected \(6,\)", network({"r_star": np.zeros(7)}))
    add("shape_signal_names.npz", "shape", r"B_rec has shape \(6, 2\), expected \(6, 3\)",
        network({"signal_names": np.array(["a", "b", "c"])}))
    add("shape_block_sizes.npz", "shape", r"block_sizes has shape \(3,\), expected \(2,\)",
        network({"block_sizes": np.array([2.0, 2.0, 2.0])}))
    add("shape_more_parts_than_neurons.npz", "shape", r"block_names lists 7 parts for N=6",
        network({"block_names": np.array([f"p{i}" for i in range(7)]), "block_sizes": np.ones(7)}))
    n = 5 * 10**6  # B_rec declared (5e6, 2), 80 MB: consistent with nothing else
    header, size = lying_entry("<f8", (n, 2))
    add("shape_huge_B_rec.npz", "shape", r"B_rec has shape \(5000000, 2\), expected \(6, 2\)",
        declare(network({"B_rec": header}), {"B_rec.npy": size}))
    # every float array float16, consistent with N = 5e6: 90 MB declared, 360 MB once loaded as float64
    n = 5 * 10**6
    big = {"d": (n,), "r_star": (n,), "B_rec": (n, 2), "W_rec": (2, n), "B_ext": (n, 2), "W": (1, n)}
    entries = {key: lying_entry("<f2", shape) for key, shape in big.items()}
    add("shape_consistent_huge_float16.npz", "shape", r"the arrays would take 0\.36 GB once loaded",
        declare(network({key: header for key, (header, _) in entries.items()}),
                {f"{key}.npy": size for key, (_, size) in entries.items()}))

    # headers consistent with N = 10^6 (72 MB of float64 declared, within the default limit), data absent:
    # refused as d arrives, without allocating what the headers declare
    n = 10**6
    big = {"d": (n,), "r_star": (n,), "B_rec": (n, 2), "W_rec": (2, n), "B_ext": (n, 2), "W": (1, n)}
    entries = {key: lying_entry("<f8", shape) for key, shape in big.items()}
    changes: dict[str, Any] = {key: header for key, (header, _) in entries.items()}
    changes["block_sizes"] = np.array([n / 2, n / 2])
    add("shape_consistent_data_missing.npz", "shape", r"entry '(d|r_star|W)\.npy' is not readable",
        declare(network(changes), {f"{key}.npy": size for key, (_, size) in entries.items()}))

    # name lists
    add("names_bytes.npz", "names", r"array 'signal_names' is not a list of names",
        network({"signal_names": np.array([b"x", b"y"])}))
    add("names_2d.npz", "names", r"array 'input_names' is not a list of names",
        network({"input_names": np.array([["u", "v"]])}))
    add("names_numbers.npz", "names", r"array 'output_names' is not a list of names",
        network({"output_names": np.array([1.0])}))
    add("names_long.npz", "names", r"signal_names holds names of up to 2000 characters",
        network({"signal_names": np.array(["x" * 2000, "y"])}))
    header, size = lying_entry("<U10000000", (2,))
    add("names_huge_declared.npz", "names", r"input_names holds names of up to 10000000 characters",
        declare(network({"input_names": header}), {"input_names.npy": size}))
    header, size = lying_entry("<U1000", (20000,))
    add("names_too_many_bytes.npz", "names", r"the name lists take 80(\.\d+)? MB \(limit",
        declare(network({"output_names": header}), {"output_names.npy": size}))
    add("names_code_point_beyond_unicode.npz", "names", r"input_names holds invalid text",
        network({"input_names": npy_header("<U1", (2,)) + struct.pack("<2I", 0x110000, 0x41)}))
    add("names_lone_surrogate.npz", "names", r"output_names holds invalid text",
        network({"output_names": npy_header("<U1", (1,)) + struct.pack("<I", 0xD800)}))
    add("names_duplicate.npz", "names", r"signal_names has duplicates",
        network({"signal_names": np.array(["x", "x"])}))

    # the meta entry: its type, size, JSON text and nesting
    add("meta_number.npz", "meta-json", r"'meta' entry is not a JSON text", network({"meta": np.array(1.5)}))
    add("meta_bytes.npz", "meta-json", r"'meta' entry is not a JSON text",
        network({"meta": np.array(json.dumps(base_meta()).encode())}))
    add("meta_list.npz", "meta-json", r"'meta' entry is not a JSON text",
        network({"meta": np.array([json.dumps(base_meta())])}))
    header, size = lying_entry("<U30000000", ())
    add("meta_huge_declared.npz", "meta-json", r"'meta' entry has 30000000 characters",
        declare(network({"meta": header}), {"meta.npy": size}))
    add("meta_too_long.npz", "meta-json", r"'meta' entry has 10\d{5} characters",
        network(meta=json.dumps(base_meta()) + " " * (1024**2)))
    add("meta_deep_list.npz", "meta-json", r"'meta' entry nests 100000 deep",
        network(meta="[" * 100_000 + "]" * 100_000))
    add("meta_deep_unclosed.npz", "meta-json", r"'meta' entry nests 50000 deep", network(meta='{"a":' * 50_000))
    add("meta_deep_in_info.npz", "meta-json", r"'meta' entry nests 42 deep",
        network(meta=meta_text(base_meta(), info='{"x": ' + "[" * 40 + "]" * 40 + "}")))
    add("meta_deep_after_escapes.npz", "meta-json", r"'meta' entry nests 1001 deep",
        network(meta='["\\\\\\"", ' + "[" * 1000 + "]" * 1000 + "]"))
    add("meta_not_json.npz", "meta-json", r"'meta' entry is not valid JSON", network(meta="{not json"))
    add("meta_invalid_text.npz", "meta-json", r"'meta' entry is not valid text",
        network({"meta": npy_header("<U2", ()) + struct.pack("<2I", 0x7B, 0xDC00)}))
    add("meta_seed_beyond_int_limit.npz", "meta-json", r"'meta' entry is not valid JSON",
        network(meta=meta_text(base_meta(), seed="9" * 5000)))

    # the meta fields
    add("meta_not_object.npz", "meta-field", r"not an npl_nengo network file \(format None\)", network(meta="[1, 2]"))
    add("meta_format_other.npz", "meta-field", r"format 'other'", network(meta=with_meta(format="other")))
    add("meta_version_99.npz", "meta-field", r"format version 99 is not supported", network(meta=with_meta(version=99)))
    add("meta_version_true.npz", "meta-field", r"format version True", network(meta=with_meta(version=True)))
    add("meta_version_float.npz", "meta-field", r"format version 1\.0", network(meta=with_meta(version=1.0)))
    for key in ("name", "gamma", "method", "seed", "info"):
        add(f"meta_no_{key}.npz", "meta-field", f"malformed \\(no '{key}'\\)", network(meta=with_meta(_drop=key)))
    gammas = {"nan": "NaN", "inf": "Infinity", "minus_inf": "-Infinity", "zero": "0", "negative": "-100",
              "tiny": "1e-300", "huge": "1e300", "overflow": "1e999", "bigint": "9" * 400, "string": '"100"',
              "bool": "true", "null": "null", "list": "[100]"}
    for label, text in gammas.items():
        add(f"meta_gamma_{label}.npz", "meta-field", r"meta gamma must be a finite number in \[1e-09, 1e\+12\]",
            network(meta=meta_text(base_meta(), gamma=text)))
    for label, text in {"negative": "-1", "float": "1.5", "bool": "true", "string": '"7"', "list": "[7]"}.items():
        add(f"meta_seed_{label}.npz", "meta-field", r"meta seed must be null or a non-negative integer",
            network(meta=meta_text(base_meta(), seed=text)))
    add("meta_name_number.npz", "meta-field", r"meta name must be a text", network(meta=with_meta(name=123)))
    add("meta_name_long.npz", "meta-field", r"meta name must be a text .* at most 1024",
        network(meta=with_meta(name="n" * 5000)))
    add("meta_name_surrogate.npz", "meta-field", r"meta name must be a text \(valid Unicode\)",
        network(meta=meta_text(base_meta(), name='"\\ud800"')))
    add("meta_method_null.npz", "meta-field", r"meta method must be a text", network(meta=with_meta(method=None)))
    add("meta_info_list.npz", "meta-field", r"meta info must be an object", network(meta=with_meta(info=[1])))
    add("meta_activation_text.npz", "meta-field", r"meta info\.activation must be an object",
        network(meta=with_info(activation="lif")))
    add("meta_activation_kind.npz", "meta-field", r"meta info\.activation must be an object of kind",
        network(meta=lif(kind="relu")))
    add("meta_lif_tau_rc_negative.npz", "meta-field", r"meta info\.activation\.tau_rc must be a finite number in \(0",
        network(meta=lif(tau_rc=-0.02)))
    add("meta_lif_tau_ref_nan.npz", "meta-field", r"meta info\.activation\.tau_ref must be a finite number in \[0",
        network(meta=lif(tau_ref=float("nan"))))
    add("meta_lif_no_amplitude.npz", "meta-field", r"meta info\.activation\.amplitude must be a finite number",
        network(meta=lif(amplitude=None)))
    add("meta_tanh_bad_tau_rc.npz", "meta-field", r"meta info\.activation\.tau_rc must be a finite number",
        network(meta=lif(kind="tanh", tau_rc="0.02")))
    add("meta_parts_list.npz", "meta-field", r"meta info\.parts must be an object of objects",
        network(meta=with_info(parts=["p1", "p2"])))
    add("meta_part_not_object.npz", "meta-field", r"meta info\.parts must be an object of objects",
        network(meta=with_info(parts={"p1": 3, "p2": {}})))
    for label, value in {"zero": 0.0, "negative": -1.0, "inf": float("inf"), "string": "fast"}.items():
        add(f"meta_relaxation_rate_{label}.npz", "meta-field",
            r"meta info\.parts\['p1'\]\.relaxation_rate must be a finite number in \(0",
            network(meta=with_info(parts={"p1": {"relaxation_rate": value}, "p2": {}})))

    # values, checked as each array arrives
    def values(key: str, value: Any) -> bytes:
        return network({key: np.asarray(value, dtype=float)})

    d_nan = arrays["d"].copy()
    d_nan[2] = np.nan
    add("values_d_nan.npz", "values", r"d holds non-finite values", values("d", d_nan))
    add("values_W_inf.npz", "values", r"W holds non-finite values", values("W", np.full((1, 6), np.inf)))
    add("values_B_rec_huge_then_nan.npz", "values", r"B_rec holds non-finite values",
        values("B_rec", np.r_[np.full(11, 1e308), np.nan].reshape(6, 2)))
    add("values_r_star_out_of_range.npz", "values", r"r_star must lie in \(-1, 1\)", values("r_star", np.full(6, 1.5)))
    add("values_signal_initial_inf.npz", "values", r"signal_initial holds infinite values",
        values("signal_initial", [np.inf, np.nan]))
    add("values_output_ranges_inf.npz", "values", r"output_ranges holds infinite values",
        values("output_ranges", [[-np.inf, 1.0]]))
    add("values_input_ranges_nan.npz", "values", r"input_ranges holds non-finite values",
        values("input_ranges", [[np.nan, 1.0], [0.0, 1.0]]))
    add("values_noise_gain_negative.npz", "values", r"noise_gain holds negative values", values("noise_gain", [-1.0]))
    add("values_residual_nan.npz", "values", r"residual holds non-finite values", values("residual", [np.nan]))
    for label, sizes in {"sum": [4.0, 3.0], "negative": [9.0, -3.0], "zero": [6.0, 0.0], "huge": [1e308, -1e308],
                         "fraction": [2.5, 3.5], "beyond_int64": [2.0**70, 6.0 - 2.0**70]}.items():
        add(f"values_block_sizes_{label}.npz", "values", r"block_sizes .* must be whole numbers >= 1 adding up to N=6",
            values("block_sizes", sizes))
    for label, sizes in {"nan": [np.nan, 3.0], "inf": [np.inf, 3.0]}.items():
        add(f"values_block_sizes_{label}.npz", "values", r"block_sizes holds non-finite values",
            values("block_sizes", sizes))
    return files


def main() -> int:
    warnings.filterwarnings("ignore", "Duplicate name", UserWarning)  # duplicate_member.npz
    FILES.mkdir(parents=True, exist_ok=True)
    files = corpus()
    names = [name for name, *_ in files]
    assert len(set(names)) == len(names), "duplicate file names"
    for old in FILES.glob("*.npz"):
        if old.name not in names:
            old.unlink()
    manifest = []
    for name, kind, match, data in files:
        (FILES / name).write_bytes(data)
        manifest.append({"file": name, "class": kind, "match": match})
    (FILES / "MANIFEST.json").write_text(json.dumps(manifest, indent=1) + "\n")
    total = sum(len(data) for *_, data in files)
    print(f"{len(files)} files, {total / 1e3:.0f} kB in {FILES}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
