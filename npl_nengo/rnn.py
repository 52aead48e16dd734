"""ProgrammedRNN: the compiled, backend-neutral network.

The network is the tanh reservoir

    dr/dt = gamma * (-r + tanh(B_rec @ (W_rec @ r) + B_ext @ u + d)),   outputs = W @ r

with the recurrence kept factored through ``k`` decoded signals
(``A = B_rec @ W_rec`` is never formed).  A ProgrammedRNN is immutable: its
arrays are read-only, and every backend receives exactly these numbers.
"""

from __future__ import annotations

import functools
import json
import math
import os
import tempfile
import zipfile
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from .errors import FormatError, ValidationError

__all__ = ["ProgrammedRNN", "load", "FORMAT_VERSION"]

FORMAT_NAME = "npl_nengo.ProgrammedRNN"
FORMAT_VERSION = 1

_ARRAYS = ("B_rec", "W_rec", "B_ext", "d", "r_star", "W", "input_ranges", "output_ranges", "signal_initial",
           "residual", "noise_gain", "block_sizes")
_TEXTS = ("signal_names", "input_names", "output_names", "block_names")
#: Largest network file :func:`load` reads (uncompressed bytes over all arrays): a zip bomb is
#: refused from the sizes its directory declares, before anything is decompressed.
MAX_FILE_BYTES = 2 * 1024**3


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
        """Save to one ``.npz`` file (no pickle), atomically (write then rename).

        Raises ``FileExistsError``-like :class:`ValidationError` if the file
        exists and ``overwrite`` is false.
        """
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_name(path.name + ".npz")
        if path.exists() and not overwrite:
            raise ValidationError(f"save: {str(path)!r} exists; pass overwrite=True to replace it")
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
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez_compressed(fh, **arrays)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> "ProgrammedRNN":
        """Load a network saved by :meth:`save`; see :func:`load`."""
        return load(path)


def load(path: str | os.PathLike) -> ProgrammedRNN:
    """Load a :class:`ProgrammedRNN` from a ``.npz`` file written by ``save``.

    The file is read with ``allow_pickle=False`` and validated completely
    (format name and version, every array's shape, dtype and finiteness); a
    corrupt, truncated or foreign file raises :class:`FormatError`.
    """
    path = Path(path)
    where = f"load {str(path)!r}"
    if not path.exists():
        raise FormatError(f"{where}: no such file")
    if not path.is_file():
        raise FormatError(f"{where}: not a regular file")
    try:
        _check_members(path, where)
        with np.load(path, allow_pickle=False) as data:
            contents = {k: data[k] for k in data.files}
    except FormatError:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged container fails in zipfile, zlib, struct, numpy...:
        # whatever the reader raises, the file is not a readable network (found by tests/test_rnn_io.py fuzzing)
        raise FormatError(f"{where}: not a readable npl_nengo network file ({type(exc).__name__}: {exc})") from None
    if "meta" not in contents:
        raise FormatError(f"{where}: not an npl_nengo network file (no 'meta' entry)")
    try:
        meta = json.loads(str(contents["meta"][()]))
    except (ValueError, TypeError, IndexError):
        raise FormatError(f"{where}: 'meta' entry is not valid JSON") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        raise FormatError(f"{where}: not an npl_nengo network file (format {meta.get('format') if isinstance(meta, dict) else None!r})")
    if meta.get("version") != FORMAT_VERSION:
        raise FormatError(f"{where}: format version {meta.get('version')!r} is not supported (this library reads {FORMAT_VERSION})")
    kwargs: dict[str, Any] = {}
    for key in _ARRAYS:
        if key not in contents:
            raise FormatError(f"{where}: missing array {key!r}")
        arr = contents[key]
        if arr.dtype.kind not in "fiu":
            raise FormatError(f"{where}: array {key!r} has dtype {arr.dtype}, expected numbers")
        kwargs[key] = arr
    for key in _TEXTS:
        if key not in contents:
            raise FormatError(f"{where}: missing array {key!r}")
        arr = contents[key]
        if arr.dtype.kind != "U" or arr.ndim != 1:
            raise FormatError(f"{where}: array {key!r} is not a list of names")
        kwargs[key] = tuple(arr.tolist())
    try:
        gamma = float(meta["gamma"])
        seed = meta["seed"]
        if seed is not None and not isinstance(seed, int):
            raise TypeError("seed")
        name, method, info = str(meta["name"]), str(meta["method"]), meta["info"]
        if not isinstance(info, dict):
            raise TypeError("info")
    except (KeyError, TypeError, ValueError) as exc:
        raise FormatError(f"{where}: 'meta' entry is malformed ({exc})") from None
    try:
        return ProgrammedRNN(name=name, gamma=gamma, method=method, seed=seed, info=info, **kwargs)
    except ValidationError as exc:
        raise FormatError(f"{where}: {exc}") from None


def _check_members(path: Path, where: str) -> None:
    """Refuse a file whose arrays hold Python objects or would decompress to more than it declares.

    Reads only the zip directory and each ``.npy`` header (numpy's public
    ``read_magic``/``read_array_header_*``), so a bomb or a lying header costs nothing.
    """
    with zipfile.ZipFile(path) as zf:
        members = zf.infolist()
        total = sum(m.file_size for m in members)
        if total > MAX_FILE_BYTES:
            raise FormatError(f"{where}: the arrays would take {total / 1e9:.3g} GB (limit {MAX_FILE_BYTES / 1e9:.3g} GB)")
        for member in members:
            with zf.open(member) as fh:
                version = np.lib.format.read_magic(fh)
                if version == (1, 0):
                    shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
                elif version == (2, 0):
                    shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
                else:
                    raise FormatError(f"{where}: entry {member.filename!r} has .npy format version {version}")
            if dtype.hasobject:
                raise FormatError(f"{where}: entry {member.filename!r} holds Python objects (pickle); refused")
            if math.prod(shape) * dtype.itemsize > member.file_size:
                raise FormatError(f"{where}: entry {member.filename!r} declares shape {shape} of {dtype}, more data "
                                  f"than its {member.file_size} bytes")


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
    if int(rnn.block_sizes.sum()) != N or np.any(rnn.block_sizes <= 0):
        raise ValidationError(f"{where}: block_sizes {rnn.block_sizes.tolist()} do not add up to N={N}")
    for key in ("signal_names", "input_names", "output_names"):
        names = getattr(rnn, key)
        if len(set(names)) != len(names):
            raise ValidationError(f"{where}: {key} has duplicates")
    if np.any(np.abs(rnn.r_star) >= 1):
        raise ValidationError(f"{where}: r_star must lie in (-1, 1)")
