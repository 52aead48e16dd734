"""Nengo GUI for the library networks and for model scripts.

    npl-nengo gui nand [--route neuron|nef] [--neurons rate|regular|poisson|lif] [--n-neurons N]
                       [--no-browser] [--port P]
    .venv/bin/python -m npl_nengo.gui examples/gui_nand.py     # any script that defines ``model``

A *model script* is a Python file that defines ``model``, a ``nengo.Network``;
``examples/gui_<name>.py`` is one for every library network.  Those scripts call
:func:`library_model`, which reads two environment variables so that the command
line can choose how the network is built without editing the script:

``NPL_NENGO_ROUTE``
    ``neuron`` (default): compile the program and show the neuron-level network;
    ``nef``: NEF ensembles (``npl_nengo.to_nengo(..., method="nef")``).
``NPL_NENGO_NEURONS``
    the neuron mode, as ``npl-nengo run --neurons``: ``rate`` (default),
    ``regular``, ``poisson`` or ``lif``.  Neuron route: ``rate`` compiles
    ``method="taylor"`` (the paper's min-norm weights) into tanh rate units;
    ``regular`` / ``poisson`` compile the entry's recommended compile
    (``networks.get(name).compile``, ``method="sampled"`` unless it says
    otherwise: min-norm weights do not survive spikes) into spiking tanh units;
    ``lif`` the LIF route (``activation="lif"`` with ``networks.get(name).lif_compile``)
    into ``nengo.LIF`` units.  NEF route: LIF ensembles (unset or ``lif``) or
    their rate counterpart (``rate``).  An integer here is the old neuron count:
    refused, naming ``NPL_NENGO_N_NEURONS``.
``NPL_NENGO_N_NEURONS``
    neurons per part (a positive integer; default: the compile's choice).

A script can also ask for a different neuron-level compile (``library_model(name,
compile=entry.compile)``, where the paper's min-norm ``taylor`` is not accurate
enough), for sliders of inputs that the plain run leaves out (``inputs=``), and for
plots of each output against its exact value (:func:`exact_node`, :func:`plot_against`).

:func:`serve` runs nengo_gui's own server (``nengo_gui.gui.BaseGUI``) on a
loopback address, prints the URL and blocks; :func:`start` runs it in a
background thread and returns a :class:`Server` (what the tests use).  Unless
``generate_layout=False`` they give nengo_gui a generated layout file
(:func:`layout`): a slider for every constant source node (the inputs) and a
value plot for every ``model.outputs`` node, spanning ±:data:`LEVEL_RANGE` unless
``model.layout_hints`` (a :class:`LayoutHints`) says otherwise, and a spike raster of
every ensemble in ``hints.rasters`` (:func:`library_model` lists its spiking ones).  It lives in a temporary directory,
so the work tree stays clean and a layout never outlives a change of route.

nengo_gui serves without TLS unless given a certificate, and its own launcher
refuses other interfaces without one; this module serves loopback only, on a
port in 0..65535 (0: a free one; the URL printed names the port bound).  Its
request handler (:func:`_request_handler`) answers a path that climbs out of
the served tree (``..``, encoded or not) with 403 before any authentication,
a static file that does not exist with 404, and never sends a Python
traceback to a client: errors are one-line pages, the traceback of an
unexpected one goes to the server's log only.
"""

from __future__ import annotations

import functools
import html
import ipaddress
import logging
import mimetypes
import os
import pkgutil
import posixpath
import runpy
import socket
import sys
import tempfile
import threading
import warnings
import webbrowser
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from . import validation
from .errors import BackendUnavailable, ValidationError

logger = logging.getLogger(__name__)

__all__ = [
    "ROUTES",
    "ROUTE_ENV",
    "NEURONS_ENV",
    "N_NEURONS_ENV",
    "NEURON_MODES",
    "EXAMPLES",
    "library_model",
    "LayoutHints",
    "layout_hints",
    "exact_node",
    "plot_against",
    "phase_plane",
    "layout",
    "Server",
    "start",
    "serve",
    "example_script",
    "gui_main",
]

#: ``--route`` → the ``method`` of :func:`npl_nengo.to_nengo`.
ROUTES: dict[str, str] = {"neuron": "taylor", "nef": "nef"}
ROUTE_ENV = "NPL_NENGO_ROUTE"
NEURONS_ENV = "NPL_NENGO_NEURONS"
N_NEURONS_ENV = "NPL_NENGO_N_NEURONS"
#: ``--neurons``: the neuron modes the GUI builds (``npl-nengo run --neurons`` spells them the same).
NEURON_MODES = ("rate", "regular", "poisson", "lif")
#: Neurons a spike raster shows (evenly spread over the ensemble).
RASTER_NEURONS = 40
#: The example scripts of a source checkout (absent from an installed wheel).
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
#: Half-range of the sliders and plots: the library's logic levels are ±0.1.
LEVEL_RANGE = 0.2


def _route(route: str | None) -> str:
    route = route or os.environ.get(ROUTE_ENV) or "neuron"
    if route not in ROUTES:
        raise ValidationError(f"route {route!r}: use one of {', '.join(ROUTES)} (from --route or ${ROUTE_ENV})")
    return route


def _n_neurons(n_neurons: int | None) -> int | None:
    if n_neurons is None:
        text = os.environ.get(N_NEURONS_ENV, "").strip()
        if not text:
            return None
        try:
            n_neurons = int(text)
        except ValueError:
            raise ValidationError(f"${N_NEURONS_ENV}={text!r} is not an integer (neurons per part)") from None
    if isinstance(n_neurons, bool) or not isinstance(n_neurons, int) or n_neurons < 1:
        raise ValidationError(f"neurons per part must be a positive integer, got {n_neurons!r}")
    return n_neurons


def _neurons(neurons: str | None, option: str = f"${NEURONS_ENV}") -> str | None:
    """The neuron mode: ``neurons``, else ``$NPL_NENGO_NEURONS``, else ``None`` (the route's default)."""
    if neurons is None:
        neurons = os.environ.get(NEURONS_ENV, "").strip() or None
        if neurons is None:
            return None
    elif option.startswith("$"):
        option = "neurons"
    text = str(neurons).strip()
    if text.lstrip("+-").isdigit():
        where = {"--neurons": f"--n-neurons {text}", "neurons": f"n_neurons={text}"}.get(option, f"${N_NEURONS_ENV}={text}")
        raise ValidationError(f"{option} {text!r} is a neuron count: use {where} ({option} is the neuron mode: "
                              f"{', '.join(NEURON_MODES)})")
    if text not in NEURON_MODES:
        raise ValidationError(f"{option} {text!r} is not one of {', '.join(NEURON_MODES)}")
    return text


def library_model(name: str, route: str | None = None, n_neurons: int | None = None, *,
                  neurons: str | None = None, inputs: Mapping[str, float] | None = None,
                  compile: Mapping[str, Any] | None = None) -> Any:
    """The ``nengo.Network`` of library network ``name`` with a constant source per input.

    ``route``, ``n_neurons`` and ``neurons`` (the neuron mode, :data:`NEURON_MODES`)
    default to ``$NPL_NENGO_ROUTE`` (else ``neuron``), ``$NPL_NENGO_N_NEURONS``
    (else the compile's choice) and ``$NPL_NENGO_NEURONS`` (else ``rate`` on the
    neuron route, LIF ensembles on the ``nef`` route).  The source nodes start at
    the entry's plain-run inputs, updated by ``inputs`` (which may add inputs the
    plain run leaves out); the generated layout makes them sliders.  A spiking
    build lists its ensemble (the neuron route's, or the first NEF part's) in
    ``model.layout_hints.rasters``: the layout shows its spikes.

    ``compile`` sets the neuron route's compile: keyword arguments of
    :func:`npl_nengo.compile` with ``method`` defaulting to ``"sampled"``, as an
    entry's recommended compile (``networks.get(name).compile``) reads; its
    ``n_neurons`` gives way to ``n_neurons`` / ``$NPL_NENGO_N_NEURONS``.  Without it
    the neuron route compiles ``method="taylor"`` (the paper's min-norm) with the
    compiler's defaults in ``rate`` mode, and the entry's recommended compile in
    ``regular`` / ``poisson`` mode; ``lif`` compiles the entry's LIF route
    (``lif_compile``, ``activation="lif"``) whatever ``compile`` says.  The
    ``nef`` route ignores ``compile``.  An entry still out of reach of spikes
    (``Entry.spiking`` False: Rössler, dRAM) in ``regular`` / ``poisson`` mode
    warns and says so in the label: it runs, and drifts or diverges.
    """
    import npl_nengo

    from . import networks

    entry = networks.get(name)
    route = _route(route)
    count = _n_neurons(n_neurons)
    mode = _neurons(neurons)
    options: dict[str, Any] = {"method": ROUTES[route]}
    if route == "nef":
        if mode not in (None, "rate", "lif"):
            raise ValidationError(f"neurons {mode!r}: the nef route's ensembles are LIF units; use neurons "
                                  "'lif' (spiking, the default) or 'rate' (nengo.LIFRate)")
    else:
        if mode == "lif":
            compile = {**entry.lif_compile, "activation": "lif"}
        elif mode in ("regular", "poisson") and compile is None:
            compile = entry.compile
        if compile is not None:
            options = {"method": "sampled", **compile}
            count = options.pop("n_neurons", None) if count is None else count
            options.pop("n_neurons", None)
    label = f"{name} ({route}{'' if mode is None else ', ' + mode})"
    if route == "neuron" and mode in ("regular", "poisson") and not entry.spiking:
        label += " - not reached under spikes"
        warnings.warn(f"{name}: its recommended compile ({options['method']}) passes at rate level only; under "
                      f"{mode} spikes it drifts or diverges (docs: Notes and limitations).  The GUI shows it as it "
                      "runs; --neurons rate runs the one that passes", stacklevel=2)
    model = npl_nengo.to_nengo(entry.build(), n_neurons=count, inputs={**entry.inputs, **(inputs or {})},
                               neurons=mode, label=label, **options)
    ensembles = [model.ensemble] if route == "neuron" else list(model.parts.values())[:1]
    layout_hints(model).rasters += [e for e in ensembles if getattr(e.neuron_type, "spiking", False)]
    return model


@dataclass
class LayoutHints:
    """What :func:`layout` reads from ``model.layout_hints``, beyond its defaults.

    Attributes
    ----------
    ranges
        ``{node: (min, max)}``: the range of a source's slider or of a plotted
        node's plot (default ``±level_range``).
    legends
        ``{plotted node: labels}``: a value plot that shows a legend, one label a line.
    columns
        Value plots fill a grid of this many columns, row by row; with more than
        one the initial view zooms out to show them all.
    xy
        Nodes of two dimensions shown as XY plots (x: dimension 0, y: dimension 1),
        in the grid after the value plots.
    sliders
        Rows of source nodes: the sliders' grid, left of the graph (e.g. a
        matrix's entries as the matrix).  Sources it leaves out follow, one a row.
    shown_time
        Seconds of simulated time the plots show (nengo_gui's default: 0.5).
    rasters
        Ensembles shown as spike rasters (:data:`RASTER_NEURONS` of their
        neurons, evenly spread), in the grid after the XY plots.
    """

    ranges: dict[Any, tuple[float, float]] = field(default_factory=dict)
    legends: dict[Any, list[str]] = field(default_factory=dict)
    columns: int = 1
    xy: list[Any] = field(default_factory=list)
    sliders: list[list[Any]] = field(default_factory=list)
    shown_time: float | None = None
    rasters: list[Any] = field(default_factory=list)


def layout_hints(model: Any) -> LayoutHints:
    """``model.layout_hints``, made (empty) if the model has none yet."""
    hints = getattr(model, "layout_hints", None)
    if hints is None:
        hints = model.layout_hints = LayoutHints()
    return hints


def exact_node(model: Any, function: Callable[[dict[str, float]], Mapping[str, float]],
               outputs: Sequence[str] | None = None, label: str = "exact") -> dict[str, Any]:
    """A Node inside ``model`` computing ``function({input: value})`` from the model's inputs.

    The node reads every ``model.inputs`` node (the values the network receives)
    and outputs ``function(values)[name]`` for each of ``outputs`` (default: the
    keys of ``model.outputs``); e.g. ``function=networks.npu.root_solution``.
    Returns ``{output name: that dimension of the node}``, for :func:`plot_against`.
    """
    import nengo

    names = list(model.inputs)
    outputs = list(model.outputs if outputs is None else outputs)

    def compute(t: float, x: Any) -> list[float]:
        result = function(dict(zip(names, (float(v) for v in x))))
        return [float(result[o]) for o in outputs]

    with model:
        node = nengo.Node(compute, size_in=len(names), size_out=len(outputs), label=label)
        for i, name in enumerate(names):
            nengo.Connection(model.inputs[name], node[i], synapse=None)
    return {o: node[i] for i, o in enumerate(outputs)}


def plot_against(model: Any, exact: Mapping[str, Any], ranges: Mapping[str, tuple[float, float]] | None = None,
                 legend: Sequence[str] = ("network", "exact"), label: str = "exact") -> None:
    """Plot every output named in ``exact`` together with its exact value.

    ``exact[name]`` is a nengo object of one dimension (e.g. from :func:`exact_node`).
    For each name a node ``[network output, exact value]`` labelled ``"<name> vs
    <label>"`` replaces ``model.outputs[name]``, so the generated layout plots both
    lines in one plot, with ``legend``, over ``ranges[name]`` if given.  Outputs
    left out of ``exact`` keep their own plot.
    """
    import nengo

    hints = layout_hints(model)
    outputs = dict(model.outputs)
    with model:
        for name, reference in exact.items():
            node = nengo.Node(size_in=2, label=f"{name} vs {label}")
            nengo.Connection(outputs[name], node[0], synapse=None)
            nengo.Connection(reference, node[1], synapse=None)
            outputs[name] = node
            hints.legends[node] = list(legend)
            if ranges is not None and name in ranges:
                hints.ranges[node] = ranges[name]
    model.outputs = outputs


def phase_plane(model: Any, x: str, y: str, value_range: tuple[float, float] | None = None) -> Any:
    """Show outputs ``x`` and ``y`` of ``model`` as an XY plot (``x`` across, ``y`` up).

    Adds a Node ``[x, y]`` labelled ``"<x>-<y> plane"`` to ``model`` and lists it in
    ``model.layout_hints.xy``, over ``value_range`` on both axes (default: the
    hints' ranges of the two outputs' nodes, joined, else ±:data:`LEVEL_RANGE`).
    Returns the node.
    """
    import nengo

    hints = layout_hints(model)
    missing = [name for name in (x, y) if name not in model.outputs]
    if missing:
        raise ValidationError(f"phase_plane: {model.label!r} has no output {missing[0]!r} "
                              f"(outputs: {', '.join(model.outputs)})")
    if value_range is None:
        spans = [hints.ranges.get(model.outputs[name], (-LEVEL_RANGE, LEVEL_RANGE)) for name in (x, y)]
        value_range = (min(lo for lo, _ in spans), max(hi for _, hi in spans))
    with model:
        node = nengo.Node(size_in=2, label=f"{x}-{y} plane")
        nengo.Connection(model.outputs[x], node[0], synapse=None)
        nengo.Connection(model.outputs[y], node[1], synapse=None)
    hints.xy.append(node)
    hints.ranges[node] = (float(value_range[0]), float(value_range[1]))
    return node


def _is_constant_source(node: Any) -> bool:
    import nengo
    import numpy as np

    output = node.output
    return (node.size_in == 0 and output is not None and not callable(output)
            and not isinstance(output, nengo.Process) and np.ndim(output) <= 1)


def layout(model: Any, names: Mapping[str, Any], level_range: float = LEVEL_RANGE,
           hints: LayoutHints | None = None) -> str:
    """nengo_gui layout (``.cfg`` text) for ``model``: inputs as sliders, outputs as value plots.

    ``names`` is the namespace the script left (its globals): nengo_gui names
    objects with its ``NameFinder`` over exactly that, and the layout must use
    the same names.  Sliders go in a column on the left, one for every constant
    source node; value plots go on the right, one for every node of
    ``model.outputs`` (if the model has that attribute).  Both span
    ``±level_range``.  ``hints`` (default: ``model.layout_hints``, if any)
    changes ranges and the plots' time window, adds legends and XY plots, and
    arranges sliders and plots in grids (:class:`LayoutHints`); without hints the
    layout is the one above.  The text comes from nengo_gui's own ``Config.dumps``.
    """
    import nengo
    import nengo_gui
    import nengo_gui.config
    from nengo_gui.components import NetGraph, Raster, SimControl, Slider, Value, XYValue

    hints = hints if hints is not None else getattr(model, "layout_hints", None) or LayoutHints()
    columns = max(int(hints.columns), 1)
    uids: dict[Any, str] = dict(nengo_gui.NameFinder(dict(names), model).known_name)
    config = nengo_gui.config.Config()
    sources = [node for node in model.all_nodes if _is_constant_source(node)]
    gridded = [node for row in hints.sliders for node in row if node in sources]
    slider_rows = [[n for n in row if n in sources] for row in hints.sliders] + [[n] for n in sources if n not in gridded]
    slider_rows = [row for row in slider_rows if row]
    slider_columns = max((len(row) for row in slider_rows), default=1)
    plots = list(getattr(model, "outputs", {}).values())
    cells = ([(Value, node) for node in plots] + [(XYValue, node) for node in hints.xy]
             + [(Raster, ens) for ens in hints.rasters])
    # nengo_gui lays the graph out in [0, 1]²; sliders go left of it, plots right, and the
    # initial view shows all three: it shows x from -pan to 1 / zoom - pan, y from 0 to
    # 1 / zoom.  Components live in the graph's coordinates: x, y is the centre, width,
    # height the half-size.  One column of sliders, one of plots: pan 0.2, zoom 0.6.  Slider
    # columns are 0.3 apart, plot columns 0.45, more where a legend (drawn right of its plot)
    # needs room; the view zooms out by `grow` to show them all, the columns keeping their
    # height on screen.  Sliders and plots share the view's height (1 / 0.6) down to 1.6,
    # each at most 0.6 high (over a third of the pane).
    legend_room = [0.25 * any(node in hints.legends for _, node in cells[col::columns]) for col in range(columns)]
    lefts = [1.07 + 0.45 * col + sum(legend_room[:col]) for col in range(columns)]
    margin = 0.05 * (slider_columns > 1)  # a grid's values boxes clear the graph's source nodes
    pan = 0.2 + margin + 0.3 * (slider_columns - 1)
    grow = max(1.0, round((pan + lefts[-1] + 0.4 + legend_room[-1]) / (0.2 + 1.47), 6))
    config[model].pos, config[model].size = (pan, 0.0), (0.6 / grow, 0.6 / grow)
    config[model].expanded, config[model].has_layout = True, False

    def place(component: Any, obj: Any, uid: str, x: float, y: float, half_width: float, half_height: float) -> None:
        uids[component] = uid
        cfg = config[component]
        cfg.x, cfg.y = x, y
        cfg.width, cfg.height = half_width, half_height * 0.85
        if isinstance(component, Raster):
            cfg.n_neurons = min(RASTER_NEURONS, int(obj.n_neurons))
        else:
            cfg.min_value, cfg.max_value = hints.ranges.get(obj, (-level_range, level_range))

    half_height = grow * min(0.3, 0.8 / max(len(slider_rows), 1))
    for row, nodes in enumerate(slider_rows):
        for col, node in enumerate(nodes):
            x = -0.1 - margin - 0.3 * (slider_columns - 1 - col)
            place(Slider(node), node, f"_viz_slider_{sources.index(node)}", x, half_height * (2 * row + 1), 0.08,
                  half_height)
    rows = -(-len(cells) // columns)
    half_height = grow * min(0.3, 0.8 / max(rows, 1))
    first = {Value: 0, XYValue: len(plots), Raster: len(plots) + len(hints.xy)}
    for i, (kind, node) in enumerate(cells):
        component = kind(node)
        prefix = {Value: "value", XYValue: "xy", Raster: "raster"}[kind]
        row, col = divmod(i, columns)
        place(component, node, f"_viz_{prefix}_{i - first[kind]}", lefts[col] + 0.2, half_height * (2 * row + 1),
              0.2, half_height)
        if node in hints.legends:
            config[component].show_legend, config[component].legend_labels = True, list(hints.legends[node])
    sim_control = SimControl()
    uids[sim_control], uids[NetGraph()] = "_viz_sim_control", "_viz_net_graph"
    if hints.shown_time is not None:
        config[sim_control].shown_time = float(hints.shown_time)
    # Components and the model; other nodes and ensembles only name what the components show.
    shown = {obj: uid for obj, uid in uids.items() if obj is model or not isinstance(obj, nengo.Network)}
    return config.dumps(uids=shown) + "\n"


def _import_nengo_gui() -> None:
    try:
        with warnings.catch_warnings():  # its editor's advice to install jedi, on every start
            warnings.filterwarnings("ignore", message="Install the jedi module")
            import nengo_gui  # noqa: F401
    except ImportError as exc:
        raise BackendUnavailable(f"the GUI needs nengo_gui ({exc}): pip install 'npl_nengo[gui]'") from None


def _imported_backends() -> dict[str, Any]:
    """nengo_gui's known simulator backends that are already imported (it imports none)."""
    import nengo_gui.exec_env

    return {name: sys.modules[name] for name in nengo_gui.exec_env.known_modules if name in sys.modules}


def _patch_nengo_gui() -> None:
    """Stop nengo_gui importing every simulator it knows each time it runs a script (and fix its raster).

    ``nengo_gui.exec_env.discover_backends`` imports nengo_ocl, nengo_dl, ... so
    that a script which starts a Simulator of its own can be stopped; with the
    ``dl`` extra installed that imports TensorFlow (about 10 s and 1 GB) before
    the first page shows.  A backend the script does not import cannot be
    started by it, so offering only the imported ones (nengo always) keeps that
    guard; the GUI's backend menu lists the same.  nengo_gui looks the function
    up at call time, so replacing the module attribute is enough.
    """
    import nengo_gui.exec_env
    from nengo_gui.components.raster import Raster

    nengo_gui.exec_env.discover_backends = _imported_backends
    Raster.javascript = _raster_javascript


def _raster_javascript(self: Any) -> str:
    """nengo_gui's ``Raster.javascript`` with the y range its axes start from.

    ``Nengo.Raster`` builds its axes from ``args.min_value`` / ``args.max_value``, which
    nengo_gui never sends: the first draw puts the y ticks at NaN (the browser logs
    ``<g> attribute transform: ... "translate(0,NaN)"`` as an error) before the raster
    sets its own ticks, 0 and the neurons shown.
    """
    info = dict(uid=id(self), label=self.label, max_neurons=self.max_neurons, min_value=0,
                max_value=self.page.config[self].n_neurons)
    return f"new Nengo.Raster(main, sim, {self.javascript_config(info)});"


def _loopback(host: str) -> None:
    """Refuse a host that reaches anything but this machine (nengo_gui would serve it without TLS)."""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, 0, proto=socket.IPPROTO_TCP)}
    except socket.gaierror as exc:
        raise ValidationError(f"host {host!r}: {exc}") from None
    if not addresses or not all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses):
        raise ValidationError(f"host {host!r} is not a loopback address: the GUI serves without TLS, "
                              "so it listens on 127.0.0.1 / ::1 only")


#: Largest request body (POST) the GUI reads: its login form and editor saves are small.
MAX_BODY_BYTES = 16 * 1024 * 1024


def _climbs(path: str) -> bool:
    """Whether a request path leaves the served tree: a ``..`` segment (percent-encoded or not, ``/``
    or ``\\`` separated), a NUL byte."""
    decoded = unquote(unquote(path))  # %252e%252e too
    return "\x00" in decoded or ".." in decoded.replace("\\", "/").split("/")


@functools.cache
def _request_handler() -> type:
    """nengo_gui's request handler, answering hostile and failing requests cleanly.

    nengo_gui's own handler sends the traceback of any unexpected error to the client as a 500
    page (``GET /static/none.js`` showed the installation's paths) and logs every 403/404 with a
    traceback; a POST without ``Content-Length`` ends in a traceback.  This subclass refuses a
    path with ``..`` with 403 before authentication, serves static files with 404 for any it does
    not hold, answers errors with a short page (no traceback, no reflected path) and logs one line
    (the traceback of an unexpected error to the server's log only).
    """
    from urllib.parse import parse_qs, urlparse

    from nengo_gui import server
    from nengo_gui.guibackend import GuiRequestHandler

    reasons = {400: "Bad request", 403: "Forbidden", 404: "Not found", 413: "Request too large",
               426: "Upgrade required", 500: "Internal server error"}

    def page(code: int, headers: Any = ()) -> Any:
        reason = reasons.get(code, "Error")
        headers = tuple(h for h in headers if isinstance(h, tuple) and len(h) == 2)  # nengo's 426 has strings
        return server.HtmlResponse(f"<h1>{code} {html.escape(reason)}</h1>".encode(), code=code, headers=headers)

    class SafeRequestHandler(GuiRequestHandler):
        def do_POST(self) -> None:
            try:
                length = int(self.headers.get("Content-Length", ""))
            except ValueError:
                return self._error(400)
            if not 0 <= length <= MAX_BODY_BYTES:
                return self._error(413)
            if "multipart/form-data" in self.headers.get("Content-Type", ""):
                return self._error(400)
            try:
                body = self.rfile.read(length).decode("utf-8")
            except (OSError, UnicodeDecodeError):
                return self._error(400)
            self.db = {k: v[0] for k, v in parse_qs(body).items()}
            self.do_GET()

        def do_GET(self) -> None:
            try:
                parsed = urlparse(self.path)
                if _climbs(parsed.path):
                    raise server.Forbidden()
                self.resource = parsed.path
                self.query = parse_qs(parsed.query)
                self.db.update({k: v[0] for k, v in self.query.items() if k not in self.db})
                if "Cookie" in self.headers:
                    self.request_cookies.parse_request(self.headers.get("Cookie"))
                if "upgrade" in self.headers.get("Connection", "close").lower():
                    self.handle_upgrade()
                else:
                    self.http_GET()
            except server.HttpError as err:
                self._error(err.code, err.headers)
            except Exception:  # a bug or a broken connection: the traceback stays on this side
                logger.exception("nengo_gui: %s %r failed", self.command, self.path)
                self._error(500)

        def _error(self, code: int, headers: Any = ()) -> None:
            logger.info("nengo_gui: %s %r: %d", self.command, self.path, code)
            try:
                page(code, headers).send(self)
            except OSError:  # the client left
                pass

        def serve_static(self) -> Any:
            """``/static/*``: the package's files, 404 for anything else (directories, missing files)."""
            name = posixpath.normpath(self.resource.lstrip("/"))
            if not name.startswith("static/") or _climbs(name):
                raise server.Forbidden()
            try:
                data = pkgutil.get_data("nengo_gui", name)
            except (OSError, ValueError):
                data = None
            if data is None:
                raise server.HttpError(404, "Not found")
            return server.HttpResponse(data, mimetypes.guess_type(name)[0] or "application/octet-stream")

    return SafeRequestHandler


class Server:
    """A nengo_gui server running in a daemon thread (from :func:`start`).

    Attributes
    ----------
    url
        Address to open, with nengo_gui's reusable access token.
    port
        The TCP port it listens on.
    script
        The model script it serves.
    """

    def __init__(self, gui: Any, host: str, script: Path, tmpdir: tempfile.TemporaryDirectory | None) -> None:
        self._gui = gui
        self._tmpdir = tmpdir
        self._pages: list[Any] = []  # every page it made, closed or not (see stop)
        create_page = gui.server.create_page

        def track(*args: Any, **kwargs: Any) -> Any:
            page = create_page(*args, **kwargs)
            self._pages.append(page)
            return page

        gui.server.create_page = track
        self.script = script
        # the port bound (nengo_gui keeps the one asked for, which is 0 for a free one)
        self.port: int = int(gui.server.bindings[0].socket.getsockname()[1])
        gui.server.server_port = self.port
        self._base = f"http://{f'[{host}]' if ':' in host else host}:{self.port}"
        self.url = self._base + str(gui.server.get_resource(token=True))
        # Waiting is on this event, never on Thread.join: a Ctrl-C that lands in join() (CPython
        # 3.11-3.12, gh-90882: _wait_for_tstate_lock releases the running thread's lock in its
        # except clause) marks the running server thread as finished, and stop() then closed the
        # listening socket under it: "OSError: [Errno 9] Bad file descriptor" from its accept().
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._serve, name=f"nengo_gui:{self.port}", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        try:
            self._gui.start()
        except OSError:  # a socket closed under a request being accepted: only while stopping
            if not self._gui.server._shutting_down:
                raise
        finally:
            self._done.set()

    def one_time_url(self) -> str:
        """A URL whose token works once (what nengo_gui itself hands a browser)."""
        return self._base + str(self._gui.server.get_resource(token="one-time"))

    @property
    def page_errors(self) -> list[dict]:
        """Python errors (``{"trace", "line"}``) of the open pages: script, build or simulation."""
        return [page.error for page in list(self._gui.server.pages) if page.error is not None]

    def alive(self) -> bool:
        """Whether the server thread still runs."""
        return not self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the server stops (or ``timeout`` s); ``True`` if it stopped.  Safe to interrupt."""
        return self._done.wait(timeout)

    def stop(self, timeout: float = 5.0) -> None:
        """Shut the server down, end its pages' simulation threads and remove the generated layout."""
        server = self._gui.server
        server.shutdown()
        self._done.wait(timeout)
        # A page's simulation thread waits inside the simulator's step while the page
        # is paused, and only leaves when page.sim is unset; nengo_gui leaves it
        # waiting when the page closes, so end each one here.
        for page in self._pages:
            page.finished = True
            page.sim = None
        self._pages.clear()
        if self._done.is_set():  # else the (daemon) thread still selects on them: leave them open
            for binding in server.bindings:
                binding.socket.close()
        if self._tmpdir is not None:
            self._tmpdir.cleanup()
            self._tmpdir = None

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start(script: str | os.PathLike, host: str = "127.0.0.1", port: int = 0, *,
          generate_layout: bool = True, auto_shutdown: float = 0.0) -> Server:
    """Start nengo_gui for model script ``script`` in a background thread.

    ``port=0`` picks a free port.  With ``generate_layout`` the script is run
    once here to lay out its inputs and outputs (and to fail early, with the
    script's own traceback, if it does not define a ``nengo.Network`` called
    ``model``); nengo_gui then runs it again for the page and its editor.
    Otherwise nengo_gui uses ``<script>.cfg`` next to the script, as its own
    launcher does.  ``auto_shutdown`` > 0 stops the server that many seconds
    after its last page closes (nengo_gui's default is 2).
    """
    _import_nengo_gui()
    import nengo
    import nengo_gui.page
    from nengo_gui.gui import BaseGUI
    from nengo_gui.guibackend import GuiServerSettings, ModelContext

    port = validation.port(port, "gui")
    _patch_nengo_gui()
    script = Path(script).resolve()
    if not script.is_file():
        raise ValidationError(f"model script {str(script)!r} does not exist")
    _loopback(host)
    tmpdir, page_settings = None, nengo_gui.page.PageSettings()
    if generate_layout:
        sys.path.insert(0, str(script.parent))  # as nengo_gui runs it: sibling modules import
        try:
            names = runpy.run_path(str(script), run_name="__nengo_gui__")
        finally:
            sys.path.remove(str(script.parent))
        if not isinstance(names.get("model"), nengo.Network):
            raise ValidationError(f"{script} must define a nengo.Network called 'model'")
        tmpdir = tempfile.TemporaryDirectory(prefix="npl_nengo_gui_")
        cfg = Path(tmpdir.name) / (script.name + ".cfg")
        cfg.write_text(layout(names["model"], names))
        page_settings.filename_cfg = str(cfg)
    settings = GuiServerSettings((host, port), auto_shutdown=auto_shutdown)
    try:
        with warnings.catch_warnings(record=True) as caught:  # nengo_gui warns, then fails, on a busy port
            warnings.simplefilter("always")
            try:
                gui = BaseGUI(ModelContext(filename=str(script)), settings, page_settings)
            except (RuntimeError, OSError) as exc:
                why = "; ".join(str(w.message) for w in caught) or str(exc)
                raise ValidationError(f"gui: cannot listen on {host} port {port}: {why}") from None
        for w in caught:  # others, as they were
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        gui.server.RequestHandlerClass = _request_handler()
    except BaseException:
        if tmpdir is not None:
            tmpdir.cleanup()
        raise
    return Server(gui, host, script, tmpdir)


def serve(script: str | os.PathLike, host: str = "127.0.0.1", port: int = 0, browser: bool = True, *,
          generate_layout: bool = True) -> None:
    """Serve model script ``script`` in nengo_gui until its last page closes or Ctrl-C.

    Prints the URL (with its access token); ``browser`` also opens it with
    :mod:`webbrowser`.  See :func:`start` for the other arguments.
    """
    server = start(script, host, port, generate_layout=generate_layout, auto_shutdown=2.0)
    print(f"nengo_gui is serving {server.script} at\n  {server.url}\n(Ctrl-C stops it)", flush=True)
    try:
        if browser:
            webbrowser.open(server.one_time_url())
        while not server.wait(0.5):
            pass
    except KeyboardInterrupt:
        print("stopping nengo_gui", flush=True)
    finally:
        server.stop()


_SCRIPT = '''"""Library network {name!r} for nengo_gui (written by npl_nengo.gui)."""
from npl_nengo.gui import library_model

model = library_model({name!r})
'''


def example_script(name: str, directory: str | os.PathLike | None = None) -> Path:
    """The model script of library network ``name``.

    ``examples/gui_<name>.py`` of the source checkout if it exists, else one
    written into ``directory`` (which must then be given).
    """
    from . import networks

    networks.get(name)  # a clear error for an unknown name
    path = EXAMPLES / f"gui_{name}.py"
    if path.is_file():
        return path
    if directory is None:
        raise ValidationError(f"no {path}; pass a directory to write the script into")
    path = Path(directory) / f"gui_{name}.py"
    path.write_text(_SCRIPT.format(name=name))
    return path


def gui_main(name: str, route: str = "neuron", n_neurons: int | None = None, browser: bool = True,
             port: int = 0, neurons: str | None = None) -> int:
    """``npl-nengo gui NAME``: serve library network ``name`` on 127.0.0.1 and return the exit code.

    The route, neuron mode and neuron count reach the script through
    ``$NPL_NENGO_ROUTE``, ``$NPL_NENGO_NEURONS`` and ``$NPL_NENGO_N_NEURONS`` (set
    for this process, which also runs nengo_gui; ``None`` unsets them).  Raises
    :class:`~npl_nengo.errors.ValidationError` for a bad name, route, mode or count
    (``neurons="50"``, the old spelling of a count, names ``--n-neurons``).
    """
    port = validation.port(port, "gui")
    route = _route(route)
    mode = _neurons(neurons, "--neurons") if neurons is not None else None
    n_neurons = _n_neurons(n_neurons) if n_neurons is not None else None
    if route == "nef" and mode not in (None, "rate", "lif"):
        raise ValidationError(f"--neurons {mode}: the nef route's ensembles are LIF units; use --neurons lif "
                              "(spiking, the default) or rate (nengo.LIFRate)")
    os.environ[ROUTE_ENV] = route
    for env, value in ((NEURONS_ENV, mode), (N_NEURONS_ENV, n_neurons)):
        if value is None:
            os.environ.pop(env, None)
        else:
            os.environ[env] = str(value)
    with tempfile.TemporaryDirectory(prefix="npl_nengo_gui_") as tmp:
        serve(example_script(name, tmp), port=port, browser=browser)
    return 0


def _main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m npl_nengo.gui SCRIPT.py   (a script that defines model)", file=sys.stderr)
        return 2
    serve(argv[0])
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(_main(sys.argv[1:]))
