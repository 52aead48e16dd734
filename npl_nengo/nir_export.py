"""NIR export and import of LIF-compiled networks (the Neuromorphic Intermediate Representation, ``nir``).

:func:`to_nir` writes a :class:`~npl_nengo.ProgrammedRNN` compiled with ``activation="lif"`` as a
``nir.NIRGraph``; :func:`from_nir` reads such a graph (or its ``.nir`` file) back into a ProgrammedRNN
that runs on every backend as the original does.  The recurrence stays factored through the ``k``
decoded signals, so the file holds O(N (k + m + outputs)) numbers, never an N x N matrix.

The graph (``m`` inputs, ``k`` fed-back signals, ``n`` outputs; node names fixed)::

    input    Input(m)                                     the external inputs u
    inputs   Linear(B_ext)             input -> inputs -> units
    units    LIF(N): tau = tau_rc, r = 1, v_leak = 0, v_threshold = 1, v_reset = 0
    decoders Linear(amplitude W_rec)   units -> decoders -> signals
    signals  LI(k): tau = 1/gamma, r = 1, v_leak = 0      the fed-back signals s
    encoders Affine(B_rec, bias d)     signals -> encoders -> units     (the cycle)
    readout  Linear(amplitude W)       units -> readout -> outputs
    outputs  LI(n): tau = 1/gamma, r = 1, v_leak = 0
    output   Output(n)                 outputs -> output

Incoming edges are summed, so the units' input current is ``J = B_rec s + d + B_ext u``: nengo.LIF's
``tau_rc dv/dt = J - v`` is NIR's LIF with ``tau = tau_rc, r = 1, v_leak = 0``.  The biases ``d`` ride on
the encoders' Affine; a network without fed-back signals (``k = 0``) puts them on the inputs' node, which
is then ``Affine(B_ext, d)``.

**Why the amplitude sits in the weights.**  NIR's spikes are unit impulses (Dirac deltas).  In npl_nengo a
LIF unit's activity is ``amplitude x rate`` (a spike train of impulses of area ``amplitude``, 1/400 s),
and the fed-back signals are that activity through the synapse ``1/gamma``:
``(1/gamma) ds/dt = -s + W_rec a``.  NIR's LI with ``tau = 1/gamma, r = 1`` integrates
``(1/gamma) dv/dt = -v + I``, so an impulse of weight ``w`` moves ``v`` by ``gamma w``; nengo's synapse moves
``s`` by ``gamma W_rec amplitude`` per spike.  Hence the weights out of the units are ``amplitude W_rec``
and ``amplitude W``.  :func:`from_nir` divides them by the amplitude recorded in the metadata (the result
is within one rounding, 2**-52 relative, of the original; every other number is stored exactly, as float64).

**What NIR cannot say.**  NIR's LIF has no refractory period, so only networks whose units have
``tau_ref = 0`` export exactly (others are refused).  nengo.LIF also floors the membrane at 0
(``min_voltage``), which NIR's LIF does not: a unit driven below 0 starts from below 0 when its drive
returns (the steady state is the same; recorded as ``v_floor`` in the units' metadata).  NIR stores no time
step: the one the network is meant to run at is the graph's metadata ``dt``.

The graph's metadata also holds everything else a ProgrammedRNN carries (names, ranges, ``r_star``, the
fit report), as numbers and JSON texts; nothing in a file is evaluated as code.
"""

from __future__ import annotations

import importlib
import io
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from ._version import __version__
from .errors import BackendUnavailable, FormatError, ValidationError
from .rnn import ProgrammedRNN

__all__ = ["to_nir", "from_nir", "NIR_FORMAT", "NIR_FORMAT_VERSION", "MAX_NIR_FILE_BYTES"]

#: ``metadata["npl_nengo_format"]`` of a graph written by :func:`to_nir`.
NIR_FORMAT = "npl_nengo.ProgrammedRNN/nir"
NIR_FORMAT_VERSION = 1
#: Largest ``.nir`` file :func:`from_nir` reads (bytes on disk, and bytes of all datasets once read).
MAX_NIR_FILE_BYTES = 256 * 1024**2
MAX_JSON_CHARS = 16 * 1024**2  #: one JSON text in the metadata
MAX_HDF5_OBJECTS = 4096  #: groups and datasets in a file (a network's file has about 70)
MAX_HDF5_DEPTH = 16
#: Default time step recorded when none is given (the backends' default).
DEFAULT_DT = 1e-3

_ARRAY_META = ("r_star", "input_ranges", "output_ranges", "signal_initial", "residual", "noise_gain", "block_sizes")


def _nir():
    try:
        return importlib.import_module("nir")
    except ImportError as exc:
        raise BackendUnavailable(f"NIR export needs the 'nir' package (pip install nir): {exc}") from None


def _json(value: Any) -> str:
    return json.dumps(value, allow_nan=True, sort_keys=True)


# -- export -------------------------------------------------------------------------------------------
def _check_exportable(rnn: ProgrammedRNN, where: str) -> dict[str, float]:
    if not isinstance(rnn, ProgrammedRNN):
        raise ValidationError(f"{where}: expected a ProgrammedRNN, got {type(rnn).__name__}")
    if rnn.activation != "lif":
        raise ValidationError(
            f"{where}: {rnn.name!r} has {rnn.activation} units; NIR export needs LIF units "
            f"(npl_nengo.compile(..., method='sampled', activation='lif'))")
    act = rnn.info["activation"]
    params = {key: float(act[key]) for key in ("tau_rc", "tau_ref", "amplitude")}
    if params["tau_ref"] != 0.0:
        raise ValidationError(
            f"{where}: {rnn.name!r} has LIF units with tau_ref = {params['tau_ref']:g} s; NIR's LIF has no "
            f"refractory period, so the exported units would fire faster than these.  Export a network "
            f"compiled for LIF units with tau_ref = 0: compile(..., activation='lif', lif={{'tau_ref': 0}})")
    if not (params["tau_rc"] > 0 and params["amplitude"] > 0 and all(map(math.isfinite, params.values()))):
        raise ValidationError(f"{where}: {rnn.name!r} has LIF parameters {params}; tau_rc and amplitude must be > 0")
    if rnn.n_signals == 0 and len(rnn.input_names) == 0:
        raise ValidationError(f"{where}: {rnn.name!r} has neither inputs nor fed-back signals: no NIR node "
                              "would carry its biases d")
    return params


def to_nir(rnn: ProgrammedRNN, path: str | os.PathLike | None = None, dt: float | None = None,
           overwrite: bool = False) -> Any:
    """The NIR graph (``nir.NIRGraph``) of a network compiled with LIF units; see the module docstring.

    Parameters
    ----------
    rnn
        A :class:`ProgrammedRNN` with ``activation="lif"`` units of ``tau_ref = 0`` (others raise
        :class:`ValidationError`: NIR has no refractory period, nor tanh units).
    path
        Also write the graph there (``nir.write``'s HDF5 format; ``.nir`` is appended to a name without
        it), atomically; an existing file is refused (:class:`SaveError`) unless ``overwrite=True``.
    dt
        The time step to record in the metadata (default: the one recorded when the network was read
        from NIR, else 1 ms).  NIR itself has no time step; nothing in the graph depends on it.
    """
    where = "to_nir"
    params = _check_exportable(rnn, where)
    from . import validation

    if dt is None:
        dt = float(rnn.info.get("nir", {}).get("dt", DEFAULT_DT))
    dt = validation.number(dt, "dt", where, positive=True, unit="s")
    nir = _nir()
    N, k, m, n = rnn.n_neurons, rnn.n_signals, len(rnn.input_names), len(rnn.output_names)
    a = params["amplitude"]

    def full(value: float, size: int) -> np.ndarray:
        return np.full(size, float(value))

    nodes: dict[str, Any] = {}
    edges: list[tuple[str, str]] = []
    nodes["units"] = nir.LIF(tau=full(params["tau_rc"], N), r=full(1.0, N), v_leak=full(0.0, N),
                             v_threshold=full(1.0, N), v_reset=full(0.0, N),
                             metadata={"v_floor": 0.0, "model": "nengo.LIF (tau_ref = 0)"})
    if m:
        B_ext = np.array(rnn.B_ext, dtype=np.float64)
        nodes["input"] = nir.Input(np.array([m]))
        nodes["inputs"] = nir.Linear(B_ext) if k else nir.Affine(B_ext, np.array(rnn.d, dtype=np.float64))
        edges += [("input", "inputs"), ("inputs", "units")]
    if k:
        nodes["decoders"] = nir.Linear(a * np.array(rnn.W_rec, dtype=np.float64))
        nodes["signals"] = nir.LI(tau=full(1.0 / rnn.gamma, k), r=full(1.0, k), v_leak=full(0.0, k))
        nodes["encoders"] = nir.Affine(np.array(rnn.B_rec, dtype=np.float64), np.array(rnn.d, dtype=np.float64))
        edges += [("units", "decoders"), ("decoders", "signals"), ("signals", "encoders"), ("encoders", "units")]
    if n:
        nodes["readout"] = nir.Linear(a * np.array(rnn.W, dtype=np.float64))
        nodes["outputs"] = nir.LI(tau=full(1.0 / rnn.gamma, n), r=full(1.0, n), v_leak=full(0.0, n))
        nodes["output"] = nir.Output(np.array([n]))
        edges += [("units", "readout"), ("readout", "outputs"), ("outputs", "output")]
    info = {key: value for key, value in rnn.info.items() if key != "nir"}
    metadata: dict[str, Any] = {
        "npl_nengo_format": NIR_FORMAT,
        "npl_nengo_format_version": NIR_FORMAT_VERSION,
        "npl_nengo_version": __version__,
        "name": rnn.name,
        "dt": dt,
        "gamma": rnn.gamma,
        "tau_rc": params["tau_rc"],
        "tau_ref": 0.0,
        "amplitude": a,
        "spikes": "unit impulses; the weights out of 'units' carry the amplitude",
        "names": _json({"inputs": list(rnn.input_names), "outputs": list(rnn.output_names),
                        "signals": list(rnn.signal_names), "blocks": list(rnn.block_names)}),
        "network": _json({"name": rnn.name, "method": rnn.method, "seed": rnn.seed}),
        "info": _json(info),
    }
    metadata.update({key: np.array(getattr(rnn, key), dtype=np.float64) for key in _ARRAY_META})
    graph = nir.NIRGraph(nodes=nodes, edges=edges, metadata=metadata)
    if path is not None:
        from .files import atomic_output, output_path

        target = output_path(path, where, suffix=".nir")
        buffer = io.BytesIO()
        nir.write(buffer, graph)
        with atomic_output(target, overwrite, where) as fh:
            fh.write(buffer.getvalue())
    return graph


# -- import -------------------------------------------------------------------------------------------
def _expected(k: int, m: int, n: int) -> tuple[dict[str, str], set[tuple[str, str]]]:
    """The node types and edges :func:`to_nir` writes for ``k`` signals, ``m`` inputs, ``n`` outputs."""
    types, edges = {"units": "LIF"}, set()
    if m:
        types.update(input="Input", inputs="Linear" if k else "Affine")
        edges |= {("input", "inputs"), ("inputs", "units")}
    if k:
        types.update(decoders="Linear", signals="LI", encoders="Affine")
        edges |= {("units", "decoders"), ("decoders", "signals"), ("signals", "encoders"), ("encoders", "units")}
    if n:
        types.update(readout="Linear", outputs="LI", output="Output")
        edges |= {("units", "readout"), ("readout", "outputs"), ("outputs", "output")}
    return types, edges


def _text(meta: dict, key: str, where: str) -> str:
    value = meta.get(key)
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray) and value.shape == () and value.dtype.kind in "SUO":
        value = value.item()
        value = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    if not isinstance(value, str):
        raise FormatError(f"{where}: metadata {key!r} is missing or not a text")
    return value


def _number(meta: dict, key: str, where: str) -> float:
    value = meta.get(key)
    try:
        arr = np.asarray(value)
        if arr.shape != () or arr.dtype.kind not in "iuf":
            raise TypeError
        number = float(arr)
    except (TypeError, ValueError):
        raise FormatError(f"{where}: metadata {key!r} is missing or not a number") from None
    if not math.isfinite(number):
        raise FormatError(f"{where}: metadata {key!r} is {number}")
    return number


def _parsed(meta: dict, key: str, where: str, kind: type) -> Any:
    text = _text(meta, key, where)
    if len(text) > MAX_JSON_CHARS:
        raise FormatError(f"{where}: metadata {key!r} has {len(text)} characters (limit {MAX_JSON_CHARS})")
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise FormatError(f"{where}: metadata {key!r} is not JSON ({str(exc)[:200]})") from None
    if not isinstance(value, kind):
        raise FormatError(f"{where}: metadata {key!r} is not a JSON {kind.__name__}")
    return value


def _array(value: Any, what: str, where: str, ndim: int) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype.kind not in "iuf" or arr.ndim != ndim:
        raise FormatError(f"{where}: {what} is {arr.dtype} of shape {arr.shape}, expected a {ndim}-D float array")
    return arr.astype(np.float64)


def _uniform(node: Any, field: str, name: str, where: str, want: float | None = None) -> float:
    values = _array(getattr(node, field), f"node {name!r} {field}", where, 1)
    if values.size == 0 or not np.all(values == values[0]) or not math.isfinite(values[0]):
        raise FormatError(f"{where}: node {name!r} has {field} that differs between units; npl_nengo's units "
                          f"share one value")
    if want is not None and values[0] != want:
        raise FormatError(f"{where}: node {name!r} has {field} = {values[0]:g}, expected {want:g}")
    return float(values[0])


def _check_hdf5(path: Path, where: str) -> None:
    """Refuse, before ``nir.read`` reads any data, a file that is not plain HDF5 within bounds: links to
    other files or objects (external, soft), datasets stored outside the file or virtual, anything but
    numbers and texts, too many objects, too deep, or more data than ``MAX_NIR_FILE_BYTES`` once read."""
    h5py = importlib.import_module("h5py")
    total = count = 0

    def visit(group: Any, depth: int) -> None:
        nonlocal total, count
        if depth > MAX_HDF5_DEPTH:
            raise FormatError(f"{where}: groups nested deeper than {MAX_HDF5_DEPTH}")
        for key in group.keys():
            count += 1
            if count > MAX_HDF5_OBJECTS:
                raise FormatError(f"{where}: more than {MAX_HDF5_OBJECTS} objects")
            link = group.get(key, getlink=True)
            if not isinstance(link, h5py.HardLink):
                raise FormatError(f"{where}: {group.name}/{key} is a {type(link).__name__}; refused")
            obj = group[key]
            if isinstance(obj, h5py.Group):
                visit(obj, depth + 1)
                continue
            if not isinstance(obj, h5py.Dataset):
                raise FormatError(f"{where}: {obj.name} is a {type(obj).__name__}")
            if obj.is_virtual or obj.external:
                raise FormatError(f"{where}: dataset {obj.name} keeps its data outside the file; refused")
            dtype = obj.dtype
            if h5py.check_string_dtype(dtype) is None and dtype.kind not in "biuf":
                raise FormatError(f"{where}: dataset {obj.name} holds {dtype}, not numbers or text")
            size = math.prod(obj.shape or ())
            if dtype.kind == "O" and size > 64:  # variable-length texts: the file holds a few (their bytes are the file's)
                raise FormatError(f"{where}: dataset {obj.name} holds {size} texts")
            total += size * max(dtype.itemsize, 8)
            if total > MAX_NIR_FILE_BYTES:
                raise FormatError(f"{where}: the datasets would take over {MAX_NIR_FILE_BYTES} bytes once read")

    with h5py.File(path, "r") as f:
        visit(f, 0)


def _read(path: Path, where: str) -> Any:
    if not path.exists():
        raise FormatError(f"{where}: no such file")
    if not path.is_file():
        raise FormatError(f"{where}: not a regular file")
    if path.stat().st_size > MAX_NIR_FILE_BYTES:
        raise FormatError(f"{where}: the file has {path.stat().st_size} bytes (limit {MAX_NIR_FILE_BYTES})")
    nir = _nir()
    try:
        _check_hdf5(path, where)
        return nir.read(path)
    except FormatError:
        raise
    except Exception as exc:  # noqa: BLE001 - h5py, HDF5, nir's asserts: whatever fails, the file is not usable
        raise FormatError(f"{where}: not a readable NIR file ({type(exc).__name__}: {str(exc)[:300]})") from None


def from_nir(source: Any) -> ProgrammedRNN:
    """Read a graph written by :func:`to_nir` (a ``nir.NIRGraph``, or the path of its file) back into a
    :class:`ProgrammedRNN` with LIF units (``tau_ref = 0``).

    Only the structure :func:`to_nir` writes is accepted: any other graph, node type, edge or neuron
    parameter (a LIF with ``r != 1``, an LI whose ``tau`` is not ``1/gamma``...) raises
    :class:`FormatError` naming what differs.  Weights are read from the graph (so an edited graph runs
    as edited); names, ranges and the fit report from its metadata.  The result's ``info["nir"]`` records
    the time step the file named.  A missing, truncated, corrupt or hostile file raises
    :class:`FormatError`.
    """
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        where = f"from_nir {str(path)!r}"
        graph = _read(path, where)
    else:
        where = "from_nir"
        graph = source
    nir = _nir()
    if not isinstance(graph, nir.NIRGraph):
        raise FormatError(f"{where}: expected a nir.NIRGraph or the path of a NIR file, got {type(graph).__name__}")
    try:
        return _rebuild(graph, where)
    except FormatError:
        raise
    except ValidationError as exc:
        raise FormatError(f"{where}: {exc}") from None


def _rebuild(graph: Any, where: str) -> ProgrammedRNN:
    meta = dict(graph.metadata or {})
    fmt = meta.get("npl_nengo_format")
    if fmt is None:
        raise FormatError(f"{where}: not a graph written by npl_nengo.to_nir (its metadata has no "
                          f"'npl_nengo_format'); only those are read back")
    if _text(meta, "npl_nengo_format", where) != NIR_FORMAT:
        raise FormatError(f"{where}: metadata 'npl_nengo_format' is {fmt!r}, expected {NIR_FORMAT!r}")
    version = _number(meta, "npl_nengo_format_version", where)
    if version != NIR_FORMAT_VERSION:
        raise FormatError(f"{where}: format version {version:g}; this npl_nengo reads version {NIR_FORMAT_VERSION}")
    names = _parsed(meta, "names", where, dict)
    lists = {}
    for key in ("inputs", "outputs", "signals", "blocks"):
        value = names.get(key)
        if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise FormatError(f"{where}: metadata 'names' has no list of texts {key!r}")
        lists[key] = value
    k, m, n = len(lists["signals"]), len(lists["inputs"]), len(lists["outputs"])
    types, edges = _expected(k, m, n)
    nodes = dict(graph.nodes)
    for name, want in types.items():
        if name not in nodes:
            raise FormatError(f"{where}: node {name!r} ({want}) is missing")
        got = type(nodes[name]).__name__
        if got != want:
            raise FormatError(f"{where}: node {name!r} is {got}, expected {want}")
    extra = sorted(set(nodes) - set(types))
    if extra:
        raise FormatError(f"{where}: node {extra[0]!r} ({type(nodes[extra[0]]).__name__}) is not part of a graph "
                          f"npl_nengo.to_nir writes (its nodes: {sorted(types)})")
    got_edges = [tuple(e) for e in graph.edges]
    missing = sorted(edges - set(got_edges))
    if missing:
        raise FormatError(f"{where}: edge {missing[0]} is missing")
    unexpected = sorted(set(got_edges) - edges)
    if unexpected:
        raise FormatError(f"{where}: edge {unexpected[0]} is not part of a graph npl_nengo.to_nir writes")
    if len(got_edges) != len(edges):
        raise FormatError(f"{where}: an edge appears more than once")

    gamma = _number(meta, "gamma", where)
    amplitude = _number(meta, "amplitude", where)
    if not (gamma > 0 and amplitude > 0):
        raise FormatError(f"{where}: metadata gamma = {gamma:g} and amplitude = {amplitude:g} must be > 0")
    units = nodes["units"]
    tau_rc = _uniform(units, "tau", "units", where)
    for field, value in (("r", 1.0), ("v_leak", 0.0), ("v_threshold", 1.0), ("v_reset", 0.0)):
        _uniform(units, field, "units", where, value)
    N = _array(units.tau, "node 'units' tau", where, 1).size
    if not tau_rc > 0:
        raise FormatError(f"{where}: node 'units' has tau = {tau_rc:g}, expected > 0")
    for li in [name for name in ("signals", "outputs") if name in nodes]:
        tau = _uniform(nodes[li], "tau", li, where)
        if not math.isclose(tau, 1.0 / gamma, rel_tol=1e-12):
            raise FormatError(f"{where}: node {li!r} has tau = {tau:g} s, expected 1/gamma = {1.0 / gamma:g} s "
                              f"(metadata gamma = {gamma:g})")
        _uniform(nodes[li], "r", li, where, 1.0)
        _uniform(nodes[li], "v_leak", li, where, 0.0)

    def weight(name: str, rows: int, cols: int) -> np.ndarray:
        w = _array(nodes[name].weight, f"node {name!r} weight", where, 2)
        if w.shape != (rows, cols):
            raise FormatError(f"{where}: node {name!r} weight has shape {w.shape}, expected {(rows, cols)}")
        return w

    def bias(name: str) -> np.ndarray:
        b = _array(nodes[name].bias, f"node {name!r} bias", where, 1)
        if b.shape != (N,):
            raise FormatError(f"{where}: node {name!r} bias has shape {b.shape}, expected ({N},)")
        return b

    B_ext = weight("inputs", N, m) if m else np.zeros((N, 0))
    if k:
        W_rec = weight("decoders", k, N) / amplitude
        B_rec = weight("encoders", N, k)
        d = bias("encoders")
    else:
        W_rec, B_rec, d = np.zeros((0, N)), np.zeros((N, 0)), bias("inputs")
    W = weight("readout", n, N) / amplitude if n else np.zeros((0, N))

    arrays = {}
    for key in _ARRAY_META:
        if key not in meta:
            raise FormatError(f"{where}: metadata {key!r} is missing")
        arrays[key] = _array(meta[key], f"metadata {key!r}", where, 2 if key.endswith("_ranges") else 1)
    network = _parsed(meta, "network", where, dict)
    info = _parsed(meta, "info", where, dict)
    seed = network.get("seed")
    if not (seed is None or (isinstance(seed, int) and not isinstance(seed, bool))):
        raise FormatError(f"{where}: metadata 'network' has seed {seed!r}, not an integer")
    dt = _number(meta, "dt", where)
    if not dt > 0:
        raise FormatError(f"{where}: metadata 'dt' is {dt:g}, expected > 0")
    info["activation"] = {"kind": "lif", "tau_rc": tau_rc, "tau_ref": 0.0, "amplitude": amplitude}
    info["nir"] = {"dt": dt, "npl_nengo_version": _text(meta, "npl_nengo_version", where)}
    return ProgrammedRNN(
        name=str(network.get("name", _text(meta, "name", where))), B_rec=B_rec, W_rec=W_rec, B_ext=B_ext, d=d,
        W=W, gamma=gamma, signal_names=tuple(lists["signals"]), input_names=tuple(lists["inputs"]),
        output_names=tuple(lists["outputs"]), block_names=tuple(lists["blocks"]), method=str(network.get("method")),
        seed=seed, info=info, **arrays)
