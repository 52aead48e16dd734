"""ProgrammedRNN: the compiled, backend-neutral network.

The network is the tanh reservoir

    dr/dt = gamma * (-r + tanh(B_rec @ (W_rec @ r) + B_ext @ u + d)),   outputs = W @ r

with the recurrence kept factored through ``k`` decoded signals
(``A = B_rec @ W_rec`` is never formed).  A ProgrammedRNN is immutable: its
arrays are read-only, and every backend receives exactly these numbers.
"""

from __future__ import annotations

import ast
import functools
import json
import math
import os
import reprlib
import struct
import sys
import zipfile
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import IO, Any, Mapping, NamedTuple

import numpy as np

from .errors import FormatError, ValidationError

__all__ = ["ProgrammedRNN", "load", "FORMAT_VERSION"]

FORMAT_NAME = "npl_nengo.ProgrammedRNN"
FORMAT_VERSION = 1

_ARRAYS = ("B_rec", "W_rec", "B_ext", "d", "r_star", "W", "input_ranges", "output_ranges", "signal_initial",
           "residual", "noise_gain", "block_sizes")
_TEXTS = ("signal_names", "input_names", "output_names", "block_names")
#: Largest network file :func:`load` reads by default (bytes of all arrays once loaded; ``load(...,
#: max_bytes=)`` raises it): a zip bomb is refused from the sizes its directory declares, before anything
#: is decompressed.  A network costs about 90 bytes a neuron (N = 10**6 with three signals: 88 MB).
MAX_FILE_BYTES = 128 * 1024**2
#: The entries of a network file: one ``.npy`` array per field, and ``meta`` (a JSON text).
_MEMBERS = frozenset(f"{key}.npy" for key in ("meta", *_ARRAYS, *_TEXTS))
# Further limits :func:`load` checks before it reads any array data; a file the library writes is far inside
# each (its zip directory is under 2 kB, its .npy headers 128 bytes, 'meta' about 300 characters a part and 5
# deep).  A float array costs 8 bytes an element once loaded, whatever its dtype on disk: MAX_FILE_BYTES
# bounds that cost too.
MAX_DIRECTORY_BYTES = 64 * 1024  #: zip central directory
MAX_HEADER_BYTES = 4096  #: one .npy header
MAX_META_CHARS = 1024**2  #: the JSON text of 'meta'
MAX_JSON_DEPTH = 32  #: nesting of lists and objects in 'meta'
MAX_NAME_CHARS = 1024  #: one name: the network's, its method, a signal, input, output or part
MAX_TEXT_BYTES = 16 * 1024**2  #: the four name lists together, as stored (4 bytes a character)
GAMMA_RANGE = (1e-9, 1e12)  #: accepted rate constants, 1/s


@functools.lru_cache(maxsize=16)
def _lif_neurons(tau_rc: float, tau_ref: float, amplitude: float):
    import nengo  # on first use: ``import npl_nengo`` does not import nengo

    return nengo.LIFRate(tau_rc=tau_rc, tau_ref=tau_ref, amplitude=amplitude)


def lif_rate(J: np.ndarray, params: Mapping[str, float]) -> np.ndarray:
    """``amplitude / (tau_ref + tau_rc log(1 + 1/(J - 1)))`` for ``J > 1``, else 0: the rate of
    ``nengo.LIFRate(tau_rc, tau_ref, amplitude)`` (its ``step``, into a new array) for currents ``J``
    of any shape."""
    J = np.asarray(J, dtype=float)
    if J.ndim == 0:
        return lif_rate(J.reshape(1), params).reshape(())
    out = np.empty_like(J)
    _lif_neurons(params["tau_rc"], params["tau_ref"], params["amplitude"]).step(1.0, J, out)
    return out


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=float, copy=True)
    a.flags.writeable = False
    return a


@dataclass(frozen=True, eq=False)
class ProgrammedRNN:
    """A compiled reservoir: weights, names and provenance.

    Attributes
    ----------
    name : str
        Name of the program or circuit it was compiled from.
    B_rec : ndarray (N, k)
        Input weights of the decoded signals fed back into the neurons.
    W_rec : ndarray (k, N)
        Decoders of the fed-back signals.
    B_ext : ndarray (N, n_inputs)
        Input weights of the external inputs.
    d : ndarray (N,)
        Biases.
    r_star : ndarray (N,)
        Operating point (``tanh(d)``).
    W : ndarray (n_outputs, N)
        Readout of the named outputs.
    gamma : float
        Rate constant in 1/s (the time constant of every unit is ``1/gamma``).
    signal_names, input_names, output_names : tuple of str
        Names of the fed-back signals, external inputs and outputs.
    input_ranges, output_ranges : ndarray (n, 2)
        Declared ranges (NaN where an output has none).
    signal_initial : ndarray (k,)
        Initial value of each signal, NaN where the program gives none.
    block_names, block_sizes
        The parts the neurons belong to (``block_sizes`` sums to N).
    method, seed
        How it was compiled.
    residual : ndarray (n_outputs,)
        Fit residual per output (taylor: ``||W R - O||`` per row; sampled: RMS
        error of the fitted target over the samples).
    noise_gain : ndarray (n_outputs,)
        ``||W_i||_2``: standard deviation of output ``i`` per unit of independent
        per-neuron noise on the filtered activities (see :meth:`expected_noise`).
    info : dict
        Further fit report (JSON-serializable), including the library version.
    """

    name: str
    B_rec: np.ndarray
    W_rec: np.ndarray
    B_ext: np.ndarray
    d: np.ndarray
    r_star: np.ndarray
    W: np.ndarray
    gamma: float
    signal_names: tuple[str, ...]
    input_names: tuple[str, ...]
    output_names: tuple[str, ...]
    input_ranges: np.ndarray
    output_ranges: np.ndarray
    signal_initial: np.ndarray
    block_names: tuple[str, ...]
    block_sizes: np.ndarray
    method: str
    seed: int | None
    residual: np.ndarray
    noise_gain: np.ndarray
    info: dict = field(default_factory=dict)

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in _ARRAYS:
                object.__setattr__(self, f.name, _readonly(value))
            elif f.name in _TEXTS:
                object.__setattr__(self, f.name, tuple(str(v) for v in value))
        object.__setattr__(self, "gamma", float(self.gamma))
        object.__setattr__(self, "info", json.loads(json.dumps(self.info)))
        _validate(self, where=f"ProgrammedRNN {self.name!r}")

    # -- sizes ----------------------------------------------------------------------
    @property
    def n_neurons(self) -> int:
        """Number of neurons N."""
        return self.d.shape[0]

    @property
    def n_signals(self) -> int:
        """Number k of decoded, fed-back signals (the rank of the recurrence)."""
        return self.W_rec.shape[0]

    @property
    def weight_norm(self) -> float:
        """Frobenius norm of the readout ``||W||``."""
        return float(np.linalg.norm(self.W))

    def __repr__(self) -> str:
        return (
            f"ProgrammedRNN({self.name!r}, method={self.method!r}, N={self.n_neurons}, k={self.n_signals}, "
            f"inputs={list(self.input_names)}, outputs={list(self.output_names)}, ||W||={self.weight_norm:.3g})"
        )

    def summary(self) -> str:
        """A few lines describing the network and its fit."""
        lines = [repr(self)]
        for i, out in enumerate(self.output_names):
            lines.append(f"  {out}: residual {self.residual[i]:.3g}, noise gain {self.noise_gain[i]:.3g}")
        return "\n".join(lines)

    # -- dynamics helpers shared by backends ---------------------------------------
    @property
    def activation(self) -> str:
        """The units' response function: ``"tanh"`` (default) or ``"lif"``."""
        return str(self.info.get("activation", {}).get("kind", "tanh"))

    def activate(self, J: np.ndarray) -> np.ndarray:
        """The units' response to current ``J``: ``tanh(J)``, or :func:`lif_rate` for LIF units."""
        if self.activation == "tanh":
            return np.tanh(J)
        return lif_rate(J, self.info["activation"])

    def drive(self, r: np.ndarray, u: np.ndarray) -> np.ndarray:
        """``activate(B_rec (W_rec r) + B_ext u + d)`` for states ``r`` of shape (..., N)."""
        return self.activate(self.current(r, u))

    def current(self, r: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Input current ``B_rec (W_rec r) + B_ext u + d`` (factored: O(N k) per state)."""
        J = (r @ self.W_rec.T) @ self.B_rec.T + self.d
        if self.B_ext.shape[1]:
            J = J + np.asarray(u, dtype=float) @ self.B_ext.T
        return J

    def initial_state(self, initial: Any = None, u0: np.ndarray | None = None) -> np.ndarray:
        """Initial neuron state.

        ``None``: the program's declared initial values where it gives them, else
        the operating point ``r*``.  ``"rstar"``: ``r*``.  ``"zero"``: zeros.  A dict
        ``{signal: value}`` (or the program's own ``initial``): the open-loop
        equilibrium ``tanh(B_rec o0 + B_ext u0 + d)`` that the authors reach by a
        burn-in with the desired values held at the feedback inputs.  An array of
        shape (N,) is used as is.
        """
        if isinstance(initial, str):
            if initial == "rstar":
                return np.array(self.r_star)
            if initial == "zero":
                return np.zeros(self.n_neurons)
            raise ValidationError(f"initial: {initial!r} is not 'rstar', 'zero', a dict or an array")
        if initial is None:
            if np.all(np.isnan(self.signal_initial)):
                return np.array(self.r_star)
            initial = {}
        if isinstance(initial, Mapping):
            o0 = np.where(np.isnan(self.signal_initial), 0.0, self.signal_initial)
            for name, value in initial.items():
                if name not in self.signal_names:
                    raise ValidationError(f"initial: {name!r} is not a fed-back signal (have {list(self.signal_names)})")
                o0[self.signal_names.index(name)] = float(value)
            u0 = np.zeros(len(self.input_names)) if u0 is None else np.asarray(u0, dtype=float)
            J = self.B_rec @ o0 + self.d
            if self.B_ext.shape[1]:
                J = J + self.B_ext @ u0
            return self.activate(J)
        arr = np.asarray(initial, dtype=float)
        if arr.shape != (self.n_neurons,):
            raise ValidationError(f"initial: array has shape {arr.shape}, expected ({self.n_neurons},)")
        return arr.copy()

    def dense_recurrent(self) -> np.ndarray:
        """The N x N matrix ``B_rec @ W_rec``.  For benchmarks and checks only: backends never use it."""
        return self.B_rec @ self.W_rec

    def expected_noise(self, max_rate: float = 1000.0, neurons: str = "regular") -> np.ndarray:
        """Expected standard deviation of each output's spike noise, ``RMS(spiking - rate)``.

        * ``"regular"``: each neuron's filtered spike train (synapse ``1/gamma``)
          deviates from its rate by a sawtooth of height ``gamma / max_rate``,
          standard deviation ``gamma / (max_rate sqrt(12))``; it has no power at
          low frequencies, so the loop passes it as it is: ``noise_gain * sigma``.
        * ``"poisson"``: spike counts are white noise of intensity ``|r| / max_rate``
          per unit (``|r| ~ 0.5``), and the closed loop *integrates* it over its own
          relaxation time ``1/lambda`` (the program's, recorded by the sampled
          compiler; ``gamma`` otherwise, the open-loop value):
          ``gamma * noise_gain * sqrt(|r| / (2 lambda max_rate))``.  For
          ``lambda = gamma`` this is the open-loop filtered shot noise.
        """
        if max_rate <= 0:
            raise ValidationError(f"max_rate must be > 0 Hz, got {max_rate}")
        if neurons == "regular":
            return self.noise_gain * self.gamma / (max_rate * math.sqrt(12))
        if neurons != "poisson":
            raise ValidationError(f"neurons must be 'regular' or 'poisson', got {neurons!r}")
        # each output is read from one part's neurons: that part's relaxation rate
        ends = np.cumsum(self.block_sizes)
        parts = self.info.get("parts", {})
        rates = np.array([parts.get(self.block_names[int(np.searchsorted(ends, np.argmax(np.abs(w)), side="right"))],
                                    {}).get("relaxation_rate", self.gamma) for w in self.W], dtype=float)
        return self.gamma * self.noise_gain * np.sqrt(0.5 / (2 * rates * max_rate))

    # -- files ---------------------------------------------------------------------
    def save(self, path: str | os.PathLike, overwrite: bool = False) -> Path:
        """Save to one ``.npz`` file (no pickle), atomically (write, flush, then rename or link).

        ``.npz`` is appended to a name without it.  With ``overwrite=False`` the
        file is created exclusively: if it exists, or another process creates it
        first, a :class:`~npl_nengo.SaveError` (a :class:`ValidationError`
        and an ``OSError``) says so.  Every failure to write (missing directory,
        the path is a directory, no permission, a full disk) is a ``SaveError``
        naming the path; it leaves no temporary file and an old file intact.
        """
        from .files import atomic_output, output_path

        path = output_path(path, "save", suffix=".npz")
        meta = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "name": self.name,
            "gamma": self.gamma,
            "method": self.method,
            "seed": self.seed,
            "info": self.info,
        }
        arrays = {k: getattr(self, k) for k in _ARRAYS}
        arrays.update({k: np.array(getattr(self, k), dtype=str) for k in _TEXTS})
        arrays["meta"] = np.array(json.dumps(meta))
        with atomic_output(path, overwrite, "save") as fh:
            np.savez_compressed(fh, **arrays)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> "ProgrammedRNN":
        """Load a network saved by :meth:`save`; see :func:`load`."""
        return load(path)


def load(path: str | os.PathLike, max_bytes: int | None = None) -> ProgrammedRNN:
    """Load a :class:`ProgrammedRNN` from a ``.npz`` file written by ``save``.

    The file is read with ``allow_pickle=False`` and validated completely
    (format name and version, every array's shape, dtype and finiteness); a
    corrupt, truncated, hostile or foreign file raises :class:`FormatError`
    naming the file and the field.  Everything that bounds the cost of reading is
    checked first, from the zip directory, the ``.npy`` headers and ``meta``
    alone: the entries (known names, at most one each), the directory's size,
    each header's size and dtype, every shape against the others (N, k, inputs,
    outputs, parts), the bytes the arrays will take once loaded
    (``max_bytes``, default :data:`MAX_FILE_BYTES` = 128 MiB, about 1.4 million
    neurons) and every metadata field (types, ranges, finiteness, JSON size and
    depth); only then is array data decompressed, smallest array first, each
    checked as it arrives.
    """
    path = Path(path)
    where = f"load {str(path)!r}"
    from . import validation

    limit = MAX_FILE_BYTES if max_bytes is None else validation.integer(max_bytes, "max_bytes", where, minimum=1)
    if not path.exists():
        raise FormatError(f"{where}: no such file")
    if not path.is_file():
        raise FormatError(f"{where}: not a regular file")
    try:
        with open(path, "rb") as fh:
            size = _check_directory(fh, where, limit)
            with zipfile.ZipFile(fh) as zf:
                entries = _read_headers(zf, size, where, limit)
                meta = _read_meta(zf, entries["meta"], where)
                N = _check_shapes(entries, where, limit)
                texts: dict[str, Any] = {key: _read_names(zf, key, entries[key], where) for key in _TEXTS}
                arrays: dict[str, Any] = {}
                for key in sorted(_ARRAYS, key=lambda key: entries[key].nbytes):  # smallest first: fail early
                    arrays[key] = _read_floats(zf, key, entries[key], N, where)
    except FormatError:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged container fails in zipfile, zlib, struct, numpy...:
        # whatever the reader raises, the file is not a readable network (found by tests/test_rnn_io.py fuzzing)
        raise FormatError(f"{where}: not a readable npl_nengo network file ({type(exc).__name__}: "
                          f"{_shorten(str(exc))})") from None
    try:
        return ProgrammedRNN(**meta, **texts, **arrays)
    except ValidationError as exc:
        raise FormatError(f"{where}: {exc}") from None


#: Values quoted in messages: a hostile file's text or numbers are cut short.
_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 120
_REPR.maxlong = 60


def _shorten(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


class _Entry(NamedTuple):
    """One ``.npy`` entry of a network file, as its zip directory and ``.npy`` header declare it."""

    info: zipfile.ZipInfo
    shape: tuple[int, ...]
    fortran: bool
    dtype: np.dtype
    offset: int  # bytes before the data: magic, version, header

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize


_EOCD = struct.Struct("<4s4H2LH")  # zip "end of central directory" record
_ZIP64_LOCATOR = b"PK\x06\x07"


def _check_directory(fh: IO[bytes], where: str, limit: int) -> int:
    """Refuse, from the zip's end record alone, a file whose directory lists more entries than a network
    file has or is larger than ``MAX_DIRECTORY_BYTES``, before ``zipfile`` reads the directory.

    The end record is found as ``zipfile`` finds it (at the very end, else the last signature in the last
    64 kB), and ZIP64 end records (which ``zipfile`` would prefer, and which a network file never needs:
    it has 17 entries and at most ``MAX_FILE_BYTES``) are refused.  Returns the file's size."""
    size = os.fstat(fh.fileno()).st_size
    if size > limit + limit // 64 + 1024**2:  # deflate never grows data by 1/64
        raise FormatError(f"{where}: the file has {size / 1e9:.3g} GB (limit {limit / 1e9:.3g} GB of arrays)")
    start = max(size - _EOCD.size - (1 << 16) - 20, 0)  # zipfile's window, and 20 bytes for a ZIP64 locator
    fh.seek(start)
    tail = fh.read()
    at = len(tail) - _EOCD.size
    if not (at >= 0 and tail[at:at + 4] == b"PK\x05\x06" and tail[-2:] == b"\0\0"):
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or len(tail) - at < _EOCD.size:
            raise FormatError(f"{where}: not a readable npl_nengo network file (no zip directory)")
    _, disk, cd_disk, n_here, n_total, cd_size, _, _ = _EOCD.unpack_from(tail, at)
    if at >= 20 and tail[at - 20:at - 16] == _ZIP64_LOCATOR:
        raise FormatError(f"{where}: the zip has ZIP64 end records; a network file never needs them")
    if max(n_here, n_total) > len(_MEMBERS) or disk or cd_disk:
        raise FormatError(f"{where}: the zip directory lists {max(n_here, n_total)} entries; a network file has "
                          f"{len(_MEMBERS)}")
    if cd_size > MAX_DIRECTORY_BYTES:
        raise FormatError(f"{where}: the zip directory has {cd_size} bytes (limit {MAX_DIRECTORY_BYTES})")
    return size


def _read_headers(zf: zipfile.ZipFile, size: int, where: str, limit: int) -> dict[str, _Entry]:
    """The entries of a network file by field, from the zip directory and each ``.npy`` header only: refuses
    too many, unknown, repeated or missing entries, a bomb (entries declaring more than ``MAX_FILE_BYTES``),
    entries declaring more compressed bytes than the file (of ``size`` bytes) holds (``zipfile`` would ask
    for them in one read, which allocates them), oversized or damaged headers, Python objects (pickle), and
    headers whose data does not fill their entry."""
    members = zf.infolist()
    if len(members) > len(_MEMBERS):  # the directory's bytes listed more than its end record said
        raise FormatError(f"{where}: the zip directory lists {len(members)} entries; a network file has "
                          f"{len(_MEMBERS)}")
    total = sum(m.file_size for m in members)
    if total > limit:
        raise FormatError(f"{where}: the arrays would take {total / 1e9:.3g} GB (limit {limit / 1e9:.3g} GB)")
    for m in members:
        if m.header_offset + m.compress_size > size:
            raise FormatError(f"{where}: entry {_REPR.repr(m.filename)} declares {m.compress_size} compressed bytes "
                              f"at offset {m.header_offset}, beyond the file's {size} bytes")
    unknown = [m.filename for m in members if m.filename not in _MEMBERS]
    if unknown and "meta.npy" not in {m.filename for m in members}:
        raise FormatError(f"{where}: not an npl_nengo network file (no 'meta' entry)")
    if unknown:
        raise FormatError(f"{where}: unknown entry {_REPR.repr(unknown[0])} (not an npl_nengo network file)")
    entries = {m.filename: _read_header(zf, m, where) for m in members}
    if "meta.npy" not in entries:
        raise FormatError(f"{where}: not an npl_nengo network file (no 'meta' entry)")
    if len(entries) != len(members):
        raise FormatError(f"{where}: an entry appears more than once in the zip directory")
    for key in (*_ARRAYS, *_TEXTS):
        if f"{key}.npy" not in entries:
            raise FormatError(f"{where}: missing array {key!r}")
    return {name[:-4]: entry for name, entry in entries.items()}


def _read_header(zf: zipfile.ZipFile, member: zipfile.ZipInfo, where: str) -> _Entry:
    """The ``.npy`` header of ``member``, read from at most ``MAX_HEADER_BYTES`` of it (numpy parses it)."""
    field_ = f"entry {_REPR.repr(member.filename)}"
    try:
        with zf.open(member) as fh:
            head = fh.read(12)  # magic (6), version (2), header length (2 in version 1.0, 4 in 2.0)
            if len(head) < 10 or head[:6] != b"\x93NUMPY":
                raise FormatError(f"{where}: {field_} is not a .npy array")
            version = (head[6], head[7])
            if version not in ((1, 0), (2, 0)):
                raise FormatError(f"{where}: {field_} has .npy format version {version}")
            (length,), start = (struct.unpack_from("<H", head, 8), 10) if version == (1, 0) else \
                (struct.unpack_from("<I", head.ljust(12, b"\0"), 8), 12)
            if length > MAX_HEADER_BYTES:
                raise FormatError(f"{where}: {field_} has a {length}-byte .npy header (limit {MAX_HEADER_BYTES})")
            head += fh.read(max(start + length - len(head), 0))  # read(-1) would read it all
    except FormatError:
        raise
    except Exception as exc:  # noqa: BLE001 - zipfile, zlib, bz2, lzma: a damaged or unsupported entry
        raise FormatError(f"{where}: {field_} is not readable ({type(exc).__name__}: {_shorten(str(exc))})") from None
    try:
        if len(head) != start + length:
            raise ValueError(f"{len(head) - start} of its {length} bytes")
        shape, fortran, dtype = _parse_header(head[start:].decode("latin1"))
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError) as exc:
        raise FormatError(f"{where}: {field_} has a damaged .npy header ({_shorten(str(exc))})") from None
    if dtype.hasobject:
        raise FormatError(f"{where}: {field_} holds Python objects (pickle); refused")
    if any(n < 0 for n in shape) or dtype.itemsize == 0:
        raise FormatError(f"{where}: {field_} declares shape {_REPR.repr(shape)} of {dtype}")
    entry = _Entry(member, tuple(shape), bool(fortran), dtype, start + length)
    if entry.offset + entry.nbytes > member.file_size:
        raise FormatError(f"{where}: {field_} declares shape {_REPR.repr(shape)} of {dtype}, more data "
                          f"than its {member.file_size} bytes")
    if entry.offset + entry.nbytes < member.file_size:
        raise FormatError(f"{where}: {field_} holds {member.file_size - entry.offset - entry.nbytes} bytes beyond "
                          f"its declared shape {_REPR.repr(shape)} of {dtype}")
    return entry


def _parse_header(text: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    """(shape, fortran order, dtype) from a .npy header's text, checked as numpy's reader checks it (a dict of
    exactly descr, fortran_order and shape; ``ast.literal_eval``, which evaluates literals only).  numpy's own
    reader first runs the text through Python's tokenizer (for headers Python 2 wrote), 1 ms a header."""
    header = ast.literal_eval(text)
    if not isinstance(header, dict) or set(header) != {"descr", "fortran_order", "shape"}:
        raise ValueError(f"not a header dict: {_shorten(text.strip(), 120)}")
    shape, fortran = header["shape"], header["fortran_order"]
    if not isinstance(shape, tuple) or not all(type(n) is int for n in shape) or not isinstance(fortran, bool):
        raise ValueError(f"shape {_REPR.repr(shape)} or fortran_order {_REPR.repr(fortran)}")
    return shape, fortran, np.lib.format.descr_to_dtype(header["descr"])


def _read_data(zf: zipfile.ZipFile, entry: _Entry, where: str) -> bytes:
    """The data bytes of ``entry`` (its header has been checked: their number is known and bounded)."""
    try:
        with zf.open(entry.info) as fh:
            fh.read(entry.offset)
            data = fh.read(entry.nbytes)
            if len(data) != entry.nbytes or fh.read(1):  # reading to the end also checks the CRC
                raise zipfile.BadZipFile(f"{len(data)} of its {entry.nbytes} bytes of data")
    except Exception as exc:  # noqa: BLE001 - zipfile, zlib, bz2, lzma: a damaged entry
        raise FormatError(f"{where}: entry {_REPR.repr(entry.info.filename)} is not readable "
                          f"({type(exc).__name__}: {_shorten(str(exc))})") from None
    return data


def _check_shapes(entries: dict[str, _Entry], where: str, limit: int) -> int:
    """Check every array's dtype and shape, from the headers, against the others; returns N.

    N is the length of ``d``, k, the number of inputs, outputs and parts the lengths of the name lists;
    the float arrays cost 8 bytes an element once loaded (whatever their dtype on disk), within
    ``MAX_FILE_BYTES`` together."""
    for key in _ARRAYS:
        dtype = entries[key].dtype
        if dtype.kind != "f" or dtype.itemsize > 8:
            raise FormatError(f"{where}: array {key!r} has dtype {dtype}, expected floats (float16/32/64)")
    for key in _TEXTS:
        entry = entries[key]
        if entry.dtype.kind != "U" or len(entry.shape) != 1:
            raise FormatError(f"{where}: array {key!r} is not a list of names ({entry.dtype}, shape "
                              f"{_REPR.repr(entry.shape)})")
        if entry.dtype.itemsize > 4 * MAX_NAME_CHARS:
            raise FormatError(f"{where}: {key} holds names of up to {entry.dtype.itemsize // 4} characters "
                              f"(limit {MAX_NAME_CHARS})")
    text_bytes = sum(entries[key].nbytes for key in _TEXTS)
    if text_bytes > MAX_TEXT_BYTES:
        raise FormatError(f"{where}: the name lists take {text_bytes / 1e6:.3g} MB (limit {MAX_TEXT_BYTES / 1e6:.3g} MB)")
    d = entries["d"].shape
    if len(d) != 1 or d[0] == 0:
        raise FormatError(f"{where}: d must be a non-empty vector, got shape {_REPR.repr(d)}")
    N = d[0]
    k, n_in, n_out, n_parts = (entries[key].shape[0] for key in _TEXTS)
    expected = {
        "d": (N,), "r_star": (N,), "B_rec": (N, k), "W_rec": (k, N), "B_ext": (N, n_in), "W": (n_out, N),
        "input_ranges": (n_in, 2), "output_ranges": (n_out, 2), "signal_initial": (k,), "residual": (n_out,),
        "noise_gain": (n_out,), "block_sizes": (n_parts,),
    }
    for key, shape in expected.items():
        if entries[key].shape != shape:
            raise FormatError(f"{where}: {key} has shape {_REPR.repr(entries[key].shape)}, expected {shape} "
                              f"(N={N}, k={k}, {n_in} inputs, {n_out} outputs, {n_parts} parts)")
    if n_parts > N:
        raise FormatError(f"{where}: block_names lists {n_parts} parts for N={N} neurons")
    cost = 8 * sum(math.prod(entries[key].shape) for key in _ARRAYS) + text_bytes
    if cost > limit:
        raise FormatError(f"{where}: the arrays would take {cost / 1e9:.3g} GB once loaded (limit "
                          f"{limit / 1e9:.3g} GB)")
    return N


def _json_depth(codes: np.ndarray) -> int:
    """The deepest nesting of ``[`` and ``{`` outside strings in a JSON text given as code points.

    Linear, vectorized, without recursion: a ``"`` counts unless an odd run of backslashes precedes it.
    Up to the text's first syntax error this is the depth ``json.loads`` reaches, so it bounds its recursion."""
    n = codes.size
    pos = np.arange(n, dtype=np.int32 if n < 2**31 else np.int64)
    backslash = codes == 92
    run = pos - np.maximum.accumulate(np.where(backslash, -1, pos))  # backslashes ending at each position
    escaped = np.zeros(n, dtype=bool)
    escaped[1:] = (run[:-1] & 1).astype(bool)
    outside = (np.cumsum((codes == 34) & ~escaped) & 1) == 0
    step = (((codes == 91) | (codes == 123)) & outside).astype(np.int8)
    step -= (((codes == 93) | (codes == 125)) & outside).astype(np.int8)
    return int(np.cumsum(step, dtype=np.int64).max(initial=0))


def _read_meta(zf: zipfile.ZipFile, entry: _Entry, where: str) -> dict[str, Any]:
    """The metadata fields (name, gamma, method, seed, info), checked; the text's length and nesting are
    checked before ``json.loads`` sees it."""
    if entry.dtype.kind != "U" or entry.shape != ():
        raise FormatError(f"{where}: 'meta' entry is not a JSON text ({entry.dtype}, shape {_REPR.repr(entry.shape)})")
    if entry.dtype.itemsize // 4 > MAX_META_CHARS:
        raise FormatError(f"{where}: 'meta' entry has {entry.dtype.itemsize // 4} characters (limit {MAX_META_CHARS})")
    data = _read_data(zf, entry, where)
    codes = _code_points(entry.dtype)
    try:
        text = data.decode("utf-32-le" if codes == "<u4" else "utf-32-be").rstrip("\0")
    except UnicodeDecodeError:
        raise FormatError(f"{where}: 'meta' entry is not valid text") from None
    if text.count("[") + text.count("{") > MAX_JSON_DEPTH:  # else it cannot nest deeper
        depth = _json_depth(np.frombuffer(data, dtype=codes))
        if depth > MAX_JSON_DEPTH:
            raise FormatError(f"{where}: 'meta' entry nests {depth} deep (limit {MAX_JSON_DEPTH})")
    try:
        meta = json.loads(text)
    except (ValueError, RecursionError):
        raise FormatError(f"{where}: 'meta' entry is not valid JSON") from None
    return _check_meta(meta, where)


def _encodable(text: str) -> bool:
    """Whether ``text`` can be printed and saved (JSON's ``\\ud800`` escapes give lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _code_points(dtype: np.dtype) -> str:
    """The dtype of the code points of a ``U`` dtype's text (UCS-4 in the dtype's byte order)."""
    little = dtype.byteorder == "<" or (dtype.byteorder in "=|" and sys.byteorder == "little")
    return "<u4" if little else ">u4"


def _number(value: Any, field_: str, where: str, low: float, high: float = math.inf, open_low: bool = True) -> float:
    """``value`` as a float if it is a finite JSON number (not a bool) in ``(low, high]`` (``[low, high]``)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            x = float(value)
        except OverflowError:  # an integer of hundreds of digits
            x = math.inf
        if math.isfinite(x) and (low < x if open_low else low <= x) and x <= high:
            return x
    interval = f"{'(' if open_low else '['}{low:g}, {high:g}]"
    raise FormatError(f"{where}: meta {field_} must be a finite number in {interval}, got {_REPR.repr(value)}")


def _check_meta(meta: Any, where: str) -> dict[str, Any]:
    """Check the metadata's format, version and fields (and the parts of ``info`` the library reads)."""
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        found = _REPR.repr(meta.get("format")) if isinstance(meta, dict) else None
        raise FormatError(f"{where}: not an npl_nengo network file (format {found})")
    version = meta.get("version")
    if type(version) is not int or version != FORMAT_VERSION:
        raise FormatError(f"{where}: format version {_REPR.repr(version)} is not supported "
                          f"(this library reads {FORMAT_VERSION})")
    for key in ("name", "gamma", "method", "seed", "info"):
        if key not in meta:
            raise FormatError(f"{where}: 'meta' entry is malformed (no {key!r})")
    for key in ("name", "method"):
        if not isinstance(meta[key], str) or len(meta[key]) > MAX_NAME_CHARS or not _encodable(meta[key]):
            raise FormatError(f"{where}: meta {key} must be a text (valid Unicode) of at most {MAX_NAME_CHARS} "
                              f"characters, got {_REPR.repr(meta[key])}")
    seed = meta["seed"]
    if seed is not None and (type(seed) is not int or seed < 0):
        raise FormatError(f"{where}: meta seed must be null or a non-negative integer, got {_REPR.repr(seed)}")
    info = meta["info"]
    if not isinstance(info, dict):
        raise FormatError(f"{where}: meta info must be an object, got {_REPR.repr(info)}")
    if "activation" in info:  # read by every backend: kind, and LIF's constants
        activation = info["activation"]
        if not isinstance(activation, dict) or activation.get("kind", "tanh") not in ("tanh", "lif"):
            raise FormatError(f"{where}: meta info.activation must be an object of kind 'tanh' or 'lif', got "
                              f"{_REPR.repr(activation)}")
        for key in ("tau_rc", "tau_ref", "amplitude"):
            if key in activation or activation.get("kind") == "lif":
                _number(activation.get(key), f"info.activation.{key}", where, 0.0, open_low=key != "tau_ref")
    if "parts" in info:  # read by expected_noise: each part's relaxation rate
        parts = info["parts"]
        if not isinstance(parts, dict) or not all(isinstance(part, dict) for part in parts.values()):
            raise FormatError(f"{where}: meta info.parts must be an object of objects, got {_REPR.repr(parts)}")
        for name, part in parts.items():
            if "relaxation_rate" in part:
                _number(part["relaxation_rate"], f"info.parts[{_REPR.repr(name)}].relaxation_rate", where, 0.0)
    return {"name": meta["name"], "gamma": _number(meta["gamma"], "gamma", where, *GAMMA_RANGE, open_low=False),
            "method": meta["method"], "seed": seed, "info": info}


def _read_names(zf: zipfile.ZipFile, key: str, entry: _Entry, where: str) -> tuple[str, ...]:
    """A name list (its dtype, shape and size are checked), refused if it holds code points that are not
    characters (numpy would fail on them with a SystemError)."""
    data = _read_data(zf, entry, where)
    codes = np.frombuffer(data, dtype=_code_points(entry.dtype))
    if np.any((codes > 0x10FFFF) | ((codes >= 0xD800) & (codes <= 0xDFFF))):
        raise FormatError(f"{where}: {key} holds invalid text (code points that are not characters)")
    names = np.frombuffer(data, dtype=entry.dtype, count=entry.shape[0]).tolist()
    if key != "block_names" and len(set(names)) != len(names):
        raise FormatError(f"{where}: {key} has duplicates")
    return tuple(names)


#: Float arrays that must be finite everywhere; signal_initial and output_ranges hold NaN for "none".
_FINITE = ("B_rec", "W_rec", "B_ext", "d", "r_star", "W", "input_ranges", "residual", "noise_gain", "block_sizes")


def _read_floats(zf: zipfile.ZipFile, key: str, entry: _Entry, N: int, where: str) -> np.ndarray:
    """A float array (its dtype, shape and size are checked), with its values checked."""
    arr = np.frombuffer(_read_data(zf, entry, where), dtype=entry.dtype, count=math.prod(entry.shape))
    arr = arr.reshape(entry.shape[::-1]).T if entry.fortran else arr.reshape(entry.shape)
    if key in _FINITE:
        if not np.all(np.isfinite(arr)):
            raise FormatError(f"{where}: {key} holds non-finite values")
    elif np.any(np.isinf(arr)):
        raise FormatError(f"{where}: {key} holds infinite values")
    if key == "r_star" and np.any(np.abs(arr) >= 1):
        raise FormatError(f"{where}: r_star must lie in (-1, 1)")
    if key in ("residual", "noise_gain") and np.any(arr < 0):
        raise FormatError(f"{where}: {key} holds negative values")
    if key == "block_sizes" and (np.any((arr < 1) | (arr > N) | (arr != np.round(arr)))
                                 or int(arr.astype(np.int64).sum()) != N):
        raise FormatError(f"{where}: block_sizes {_REPR.repr(arr.tolist())} must be whole numbers >= 1 adding "
                          f"up to N={N}")
    return arr


def _validate(rnn: ProgrammedRNN, where: str) -> None:
    N = rnn.d.shape[0] if rnn.d.ndim == 1 else -1
    k = len(rnn.signal_names)
    n_in, n_out = len(rnn.input_names), len(rnn.output_names)
    shapes = {
        "d": (N,),
        "r_star": (N,),
        "B_rec": (N, k),
        "W_rec": (k, N),
        "B_ext": (N, n_in),
        "W": (n_out, N),
        "input_ranges": (n_in, 2),
        "output_ranges": (n_out, 2),
        "signal_initial": (k,),
        "residual": (n_out,),
        "noise_gain": (n_out,),
        "block_sizes": (len(rnn.block_names),),
    }
    if N <= 0:
        raise ValidationError(f"{where}: d must be a non-empty vector, got shape {rnn.d.shape}")
    for key, shape in shapes.items():
        arr = getattr(rnn, key)
        if arr.shape != shape:
            raise ValidationError(f"{where}: {key} has shape {arr.shape}, expected {shape}")
    for key in ("B_rec", "W_rec", "B_ext", "d", "r_star", "W", "input_ranges", "residual", "noise_gain"):
        if not np.all(np.isfinite(getattr(rnn, key))):
            raise ValidationError(f"{where}: {key} holds non-finite values")
    if not (math.isfinite(rnn.gamma) and rnn.gamma > 0):
        raise ValidationError(f"{where}: gamma must be a positive number, got {rnn.gamma}")
    if not np.isfinite(rnn.block_sizes.sum()) or int(rnn.block_sizes.sum()) != N or np.any(rnn.block_sizes <= 0):
        raise ValidationError(f"{where}: block_sizes {rnn.block_sizes.tolist()} do not add up to N={N}")
    for key in ("signal_names", "input_names", "output_names"):
        names = getattr(rnn, key)
        if len(set(names)) != len(names):
            raise ValidationError(f"{where}: {key} has duplicates")
    if np.any(np.abs(rnn.r_star) >= 1):
        raise ValidationError(f"{where}: r_star must lie in (-1, 1)")
