"""Pong played live on nengo: a slider or follower paddle, and the arena drawn for nengo_gui.

The game itself (the program, its ODE reference, the metric) is the library
entry :mod:`npl_nengo.networks.pong`; this app compiles it once per process
(:func:`compiled`) and puts it in a ``nengo.Network`` with a live paddle: :func:`nengo_model`,
:func:`closed_loop` (the follower reading the ball from the network on
``nengo.Simulator``), :func:`arena_svg` and :func:`add_arena_view` (an SVG
drawing for nengo_gui's HTML view).
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np

from .backends import nengo as nb
from .compiler import compile as compile_program
from .errors import ValidationError
from . import validation
from .networks.pong import FLOOR, LEVEL, PADDLE_ROW, WALL, Follower, pong
from .result import Result
from .rnn import ProgrammedRNN

__all__ = ["REACH", "PADDLE_RANGE", "compiled", "nengo_model", "closed_loop", "arena_svg", "add_arena_view", "gui_options",
           "KEYS_JS"]

#: Half-width of the drawn paddle bar: with the slider paddle the program sees the paddle only while
#: the ball is within this distance of it in x (see :func:`nengo_model`).
REACH = 0.015


@lru_cache(maxsize=4)
def compiled(n_neurons: int = 1360, method: str = "taylor", seed: int = 0) -> ProgrammedRNN:
    """``npl_nengo.compile(pong(), ...)``, cached (a ProgrammedRNN is immutable).

    nengo_gui runs a model script more than once in one process (layout, page,
    every edit); the cache compiles the game once.  1360 = 2 K units for the
    taylor method (K = 680 monomials).
    """
    return compile_program(pong(), n_neurons=n_neurons, method=method, seed=seed)


def gui_options() -> dict[str, Any]:
    """The GUI's build options for pong, from the environment ``npl-nengo gui`` sets (:mod:`npl_nengo.gui`).

    Read as :func:`npl_nengo.gui.library_model` reads them.  ``$NPL_NENGO_N_NEURONS``
    (``--n-neurons``) is the taylor compile's ``n_neurons`` (default 1360 = 2 K; fewer
    units compile, but the game needs the exact cubic basis).  Pong is the compiled
    program on nengo in rate units: ``$NPL_NENGO_ROUTE`` (``--route``) other than
    ``neuron`` and ``$NPL_NENGO_NEURONS`` (``--neurons``) other than ``rate`` are
    refused with a ValidationError (the NEF route and spiking units do not keep
    the detectors' pitchforks: the sampled compile that spikes need already
    fails the game, ``tests/test_pong.py``; one NEF ensemble of 3000 or 10 000
    units lets the ball leave the arena, docs "Notes and limitations").
    Returns ``{"n_neurons", "neurons"}``.
    """
    from . import gui

    route = gui._route(None)
    if route != "neuron":
        raise ValidationError(f"pong: route {route!r} (--route, ${gui.ROUTE_ENV}) is not available: the game is the "
                              "compiled program in rate units, route 'neuron' only")
    neurons = gui._neurons(None)
    if neurons not in (None, "rate"):
        raise ValidationError(f"pong: neurons {neurons!r} (--neurons, ${gui.NEURONS_ENV}) is not available: the game "
                              "runs in rate units only (its detectors need the min-norm taylor weights)")
    return {"n_neurons": gui._n_neurons(None) or 1360, "neurons": "rate"}


# -- a live paddle on nengo ------------------------------------------------------------------------
def _follower_process(follower: Follower):
    import nengo

    class FollowerProcess(nengo.Process):
        """The :class:`Follower` as a nengo Process: reads the ball's x, outputs the paddle."""

        def __init__(self) -> None:
            super().__init__(default_size_in=1, default_size_out=1)

        def make_state(self, shape_in, shape_out, dt, dtype=None):
            return {"paddle": np.full(1, follower.start)}

        def make_step(self, shape_in, shape_out, dt, rng, state):
            p = state["paddle"]

            def step(t: float, x: np.ndarray) -> np.ndarray:
                p[0] += dt * follower.velocity(p[0], x[0])
                return p.copy()

            return step

    return FollowerProcess()


#: Half-range of the slider paddle: the bar (``2 REACH`` wide) spans the arena wall to wall.
PADDLE_RANGE = WALL - REACH


class _PaddleGate:
    """What the program sees of the slider paddle: the paddle while the ball is over the bar, else a
    paddle out of the disc's reach.

    The program's paddle catches with a disc of radius ``sqrt(0.002) = 0.045`` around
    ``(paddle, PADDLE_ROW)``, nearly the whole width between the walls (±0.05): a paddle
    left at 0 would catch most balls.  The gate feeds the program the paddle only while
    the ball's x, clamped to the walls as it is drawn, is within :data:`REACH` of it,
    and otherwise a paddle at ±0.1, on the far side of the ball (0.1 or more away), so
    a ball the drawn bar is not under falls to the floor (a miss).
    """

    def __init__(self, reach: float) -> None:
        self.reach = reach

    def __call__(self, t: float, x: np.ndarray) -> float:
        paddle, ball = _clip(x[0], WALL - self.reach), _clip(x[1], WALL)
        if abs(ball - paddle) <= self.reach:
            return paddle
        return -0.1 if ball > 0 else 0.1


def nengo_model(
    rnn: ProgrammedRNN,
    paddle: str | Follower = "slider",
    neurons: str = "rate",
    initial: Any = None,
    label: str = "pong",
    reach: float = REACH,
    **build_options: Any,
):
    """The neuron-level nengo network of a pong ``rnn`` with a live paddle.

    Parameters
    ----------
    paddle
        ``"slider"``: a constant source Node labelled ``"paddle (slider)"`` (a
        slider in nengo_gui; ``net.sources["paddle"]``), the player's paddle,
        clamped so that its bar stays between the walls (±``WALL - reach``) and fed to the program through a gate
        (``net.gate``): the program sees the paddle only while the ball is within
        ``reach`` of it in x, else a paddle out of reach, so that only a ball
        over the paddle's bar is caught; ``"follower"`` or a
        :class:`Follower`: a Node (``net.player``) that reads the network's
        ``ball_x`` output and moves the paddle towards it with the follower's
        lag and speed limit (no gate: the program's own disc catches);
        ``"open"``: ``net.inputs["paddle"]`` left open.
    reach
        The slider paddle's gate: half-width of the bar that catches (default :data:`REACH`).
    neurons, initial, **build_options
        Passed to :func:`npl_nengo.backends.nengo.build`.

    Returns
    -------
    nengo.Network
        As ``build`` returns it, plus ``net.paddle`` (the Node whose output is
        the paddle position), ``net.player`` (the follower Node or None) and
        ``net.gate`` (the slider's gate Node or None).
    """
    import nengo

    if not isinstance(rnn, ProgrammedRNN) or "paddle" not in rnn.input_names or "ball_x" not in rnn.output_names:
        raise ValidationError("nengo_model: expected a network compiled from networks.pong.pong()")
    if paddle == "follower":
        paddle = Follower()
    if not (isinstance(paddle, Follower) or paddle in ("slider", "open")):
        raise ValidationError(f"nengo_model: paddle must be 'slider', 'follower', 'open' or a Follower, got {paddle!r}")
    reach = validation.number(reach, "reach", "nengo_model", positive=True)
    net = nb.build(rnn, inputs={}, neurons=neurons, initial=initial, label=label, **build_options)
    net.player = net.gate = None
    with net:
        if isinstance(paddle, Follower):
            net.player = nengo.Node(_follower_process(paddle), size_in=1, size_out=1, label="paddle (follower)")
            # the output Node already carries the units' synapse: no extra filter
            nengo.Connection(net.outputs["ball_x"], net.player, synapse=None)
            nengo.Connection(net.player, net.inputs["paddle"], synapse=None)
            net.paddle = net.player
        elif paddle == "slider":
            net.paddle = nengo.Node(0.0, label="paddle (slider)")
            net.sources = {**getattr(net, "sources", {}), "paddle": net.paddle}
            net.gate = nengo.Node(_PaddleGate(float(reach)), size_in=2, size_out=1, label="paddle (gate)")
            nengo.Connection(net.paddle, net.gate[0], synapse=None)
            nengo.Connection(net.outputs["ball_x"], net.gate[1], synapse=None)
            nengo.Connection(net.gate, net.inputs["paddle"], synapse=None)
        else:
            net.paddle = net.inputs["paddle"]
    return net


def closed_loop(
    rnn: ProgrammedRNN,
    duration: float = 10.0,
    follower: Follower | None = None,
    neurons: str = "rate",
    dt: float = 1e-3,
    seed: int = 0,
    **build_options: Any,
) -> Result:
    """Play pong on ``nengo.Simulator`` with the follower reading the ball from the network.

    Returns a :class:`~npl_nengo.result.Result` with every output and ``"paddle"``
    (read :func:`bounces` from it).
    """
    import nengo

    net = nengo_model(rnn, follower or Follower(), neurons=neurons, dt=dt, seed=seed, **build_options)
    with net:
        probes = {name: nengo.Probe(conn, "output") for name, conn in net.output_connections.items()}
        probes["paddle"] = nengo.Probe(net.player, synapse=None)
    t, data, interrupted, wall, build_seconds = nb.simulate(net, probes, duration, dt, seed, 1)
    outputs = {name: np.asarray(v)[:, 0] for name, v in data.items()}
    return Result(t=t, outputs=outputs, backend="nengo", neurons=neurons, dt=dt, seed=seed, name=rnn.name,
                  info={"wall_seconds": wall, "build_seconds": build_seconds, "interrupted": interrupted,
                        "closed_loop": True})


# -- drawing -------------------------------------------------------------------------------------------
def _clip(value: float, limit: float = 0.1, low: float | None = None) -> float:
    value = float(value)
    low = -limit if low is None else low
    return min(max(value, low), limit) if math.isfinite(value) else 0.0


#: Margin of the drawing around the walls and floor (units of the game), room for the ball's radius.
_MARGIN = 0.005
#: Radius of the drawn ball.
_BALL = 0.004

#: The keyboard control of the slider paddle, run by the page (nengo_gui's HTML view sets the drawing
#: with ``innerHTML``, which runs no ``<script>``; an image that fails to load runs its ``onerror``).
#: Left/Right arrow (or A/D) held moves the ``paddle (slider)`` slider at 0.2 units/s, clamped by the
#: slider to its range; keys typed into a text field (the editor, a slider's value) are left alone.
KEYS_JS = (
    "if(!window.nplPong){var P=window.nplPong={dir:0,speed:0.2,moved:0};"
    "var side=function(e){return e.key=='ArrowLeft'||e.key=='a'?-1:e.key=='ArrowRight'||e.key=='d'?1:0;};"
    "var typing=function(e){var t=e.target;return t&&(t.tagName=='INPUT'||t.tagName=='TEXTAREA'||t.isContentEditable);};"
    "document.addEventListener('keydown',function(e){var d=side(e);if(d&&!typing(e)){P.dir=d;e.preventDefault();}});"
    "document.addEventListener('keyup',function(e){if(side(e)==P.dir)P.dir=0;});"
    "window.addEventListener('blur',function(){P.dir=0;});"
    "setInterval(function(){if(!P.dir)return;var s=Nengo.Component.components.find(function(c){"
    "return c instanceof Nengo.Slider&&c.label.textContent=='paddle (slider)';});"
    "if(s){var c=s.sliders[0];c.set_value(c.value+P.dir*P.speed*0.02);P.moved+=1;}},20);}"
)


def arena_svg(ball_x: float, ball_y: float, paddle: float, size: int = 220, catches: int | None = None,
              misses: int | None = None, keys: bool = False, reach: float = REACH) -> str:
    """An SVG drawing of the arena: walls, floor, the paddle's bar, the ball and the score.

    One frame for everything: the walls at ``x = ±WALL`` and ``y = +WALL``, the
    floor at ``y = FLOOR``, ``_MARGIN`` around them; ``size`` is the picture's
    width in pixels (220: 2000 pixels a unit).  The program's ball turns up to
    about 0.03 beyond a wall (the detectors fire late); the drawing clamps the
    ball to the walls and floor, and the paddle to the walls, so nothing is
    drawn outside the arena: the ball's centre stays ``_BALL`` (its radius)
    inside the walls and above the floor, the paddle's bar, ``2 reach`` wide (the
    width that catches with the slider paddle's gate), between the walls.
    ``catches`` and ``misses`` are shown below the arena when given (text of class ``pong-score`` with
    ``data-catches`` and ``data-misses``); ``keys`` adds the keyboard control
    (:data:`KEYS_JS`).
    """
    k = size / (2 * (WALL + _MARGIN))
    band = 24  # the score's band, below the arena

    def px(x: float) -> str:
        return f"{(x + WALL + _MARGIN) * k:.1f}"

    def py(y: float) -> str:
        return f"{(WALL + _MARGIN - y) * k:.1f}"

    height = (WALL - FLOOR + 2 * _MARGIN) * k
    p = _clip(paddle, WALL - reach)
    bx, by = _clip(ball_x, WALL - _BALL), _clip(ball_y, WALL - _BALL, FLOOR + _BALL)
    parts = [
        f'<svg width="100%" height="100%" viewBox="0 0 {size} {height + band:.0f}" '
        f'xmlns="http://www.w3.org/2000/svg" class="pong-arena">',
        f'<rect x="0" y="0" width="{size}" height="{height:.1f}" fill="#fafafa"/>',
        f'<polyline points="{px(-WALL)},{py(FLOOR)} {px(-WALL)},{py(WALL)} {px(WALL)},{py(WALL)} {px(WALL)},{py(FLOOR)}" '
        f'fill="none" stroke="#333" stroke-width="2" class="pong-walls"/>',
        f'<line x1="{px(-WALL)}" y1="{py(FLOOR)}" x2="{px(WALL)}" y2="{py(FLOOR)}" stroke="#8c564b" stroke-width="3" '
        f'stroke-dasharray="6 3"/>',
        f'<line x1="{px(p - reach)}" y1="{py(PADDLE_ROW)}" x2="{px(p + reach)}" y2="{py(PADDLE_ROW)}" '
        f'stroke="#1f77b4" stroke-width="6" class="pong-paddle" data-x="{p:.4f}"/>',
        f'<circle cx="{px(bx)}" cy="{py(by)}" r="{_BALL * k:.1f}" fill="#d62728" class="pong-ball" '
        f'data-x="{bx:.4f}" data-y="{by:.4f}"/>',
    ]
    if catches is not None or misses is not None:
        c, m = int(catches or 0), int(misses or 0)
        parts.append(f'<text x="{size / 2:.0f}" y="{height + band - 5:.0f}" text-anchor="middle" font-family="sans-serif" font-size="15" '
                     f'class="pong-score" data-catches="{c}" data-misses="{m}">catches {c}   misses {m}</text>')
    parts.append("</svg>")
    svg = "".join(parts)
    if keys:
        svg += f'<img src="data:," alt="" style="display:none" onerror="{KEYS_JS}">'
    return svg


def add_arena_view(net, label: str = "arena", frame: float = 0.05):
    """Add a Node to ``net`` that draws the game and counts catches and misses (nengo_gui's HTML view).

    It reads ``ball_x``, ``ball_y``, the paddle (``net.paddle``, see
    :func:`nengo_model`) and the outputs ``up``, ``hit_paddle`` and ``hit_floor``,
    and passes the first three through as a 3-D value (so it can also be
    plotted).  A bounce off the bottom (the ``up`` latch flipping up with the
    ball below centre) is a *catch* when the paddle's detector drove it
    (``100 hit_paddle^2`` against ``10 hit_floor^2`` since the last flip, as
    :func:`npl_nengo.networks.pong.bounces` classifies), else a *miss*; the
    counts are ``net.arena.output.catches`` / ``.misses`` and are drawn above
    the arena.  With a slider paddle the drawing carries the keyboard control
    (:data:`KEYS_JS`).  The drawing is redone every ``frame`` simulated
    seconds, not every step, which keeps the page in real time.  Returns the
    Node (also ``net.arena``).
    """
    import nengo

    frame = validation.number(frame, "frame", "add_arena_view", minimum=0.0, unit="seconds")
    keys = getattr(net, "sources", {}).get("paddle") is net.paddle
    with net:
        net.arena = nengo.Node(_ArenaDraw(float(frame), keys), size_in=6, size_out=3, label=label)
        for i, name in enumerate(("ball_x", "ball_y")):
            nengo.Connection(net.outputs[name], net.arena[i], synapse=None)
        nengo.Connection(net.paddle, net.arena[2], synapse=None)
        for i, name in enumerate(("up", "hit_paddle", "hit_floor"), start=3):
            nengo.Connection(net.outputs[name], net.arena[i], synapse=None)
    return net.arena


class _ArenaDraw:
    """The arena Node's function: counts catches and misses, passes ``(ball_x, ball_y, paddle)``
    through and keeps the SVG that nengo_gui's HTML view shows (``_nengo_html_``) redrawn every
    ``frame`` simulated seconds."""

    def __init__(self, frame: float, keys: bool = False):
        self.frame, self.keys = frame, keys
        self._reset()

    def _reset(self) -> None:
        self.last, self.t = -math.inf, -math.inf
        self.catches = self.misses = 0
        self.rising = False  # the y latch crossed -LEVEL / 2 (going down) and not yet +LEVEL / 2 since
        self.peak_paddle = self.peak_floor = 0.0
        self._nengo_html_ = arena_svg(0.0, 0.0, 0.0, catches=0, misses=0, keys=self.keys)

    def __call__(self, t: float, x: np.ndarray) -> np.ndarray:
        if t < self.t:  # the simulator was reset
            self._reset()
        self.t = t
        up, hit_paddle, hit_floor = float(x[3]), float(x[4]), float(x[5])
        if up < -LEVEL / 2 and not self.rising:  # the ball turned down: the bottom's detectors are quiet
            self.rising = True
            self.peak_paddle = self.peak_floor = 0.0
        self.peak_paddle = max(self.peak_paddle, 100 * hit_paddle**2)
        self.peak_floor = max(self.peak_floor, 10 * hit_floor**2)
        if up > LEVEL / 2 and self.rising:
            self.rising = False
            if x[1] < 0:  # a bounce off the bottom: who drove it
                if self.peak_paddle >= self.peak_floor:
                    self.catches += 1
                else:
                    self.misses += 1
            self.last = -math.inf  # draw the new score now
        if t - self.last >= self.frame:
            self.last = t
            self._nengo_html_ = arena_svg(x[0], x[1], x[2], catches=self.catches, misses=self.misses, keys=self.keys)
        return x[:3]
