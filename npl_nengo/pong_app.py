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
from .networks.pong import FLOOR, PADDLE_ROW, WALL, Follower, pong
from .result import Result
from .rnn import ProgrammedRNN

__all__ = ["compiled", "nengo_model", "closed_loop", "arena_svg", "add_arena_view"]


@lru_cache(maxsize=4)
def compiled(n_neurons: int = 1360, method: str = "taylor", seed: int = 0) -> ProgrammedRNN:
    """``npl_nengo.compile(pong(), ...)``, cached (a ProgrammedRNN is immutable).

    nengo_gui runs a model script more than once in one process (layout, page,
    every edit); the cache compiles the game once.  1360 = 2 K units for the
    taylor method (K = 680 monomials).
    """
    return compile_program(pong(), n_neurons=n_neurons, method=method, seed=seed)


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


def nengo_model(
    rnn: ProgrammedRNN,
    paddle: str | Follower = "slider",
    neurons: str = "rate",
    initial: Any = None,
    label: str = "pong",
    **build_options: Any,
):
    """The neuron-level nengo network of a pong ``rnn`` with a live paddle.

    Parameters
    ----------
    paddle
        ``"slider"``: a constant source Node labelled ``"paddle (slider)"`` (a
        slider in nengo_gui; ``net.sources["paddle"]``); ``"follower"`` or a
        :class:`Follower`: a Node (``net.player``) that reads the network's
        ``ball_x`` output and moves the paddle towards it with the follower's
        lag and speed limit; ``"open"``: ``net.inputs["paddle"]`` left open.
    neurons, initial, **build_options
        Passed to :func:`npl_nengo.backends.nengo.build`.

    Returns
    -------
    nengo.Network
        As ``build`` returns it, plus ``net.paddle`` (the Node whose output is
        the paddle position) and ``net.player`` (the follower Node or None).
    """
    import nengo

    if not isinstance(rnn, ProgrammedRNN) or "paddle" not in rnn.input_names or "ball_x" not in rnn.output_names:
        raise ValidationError("nengo_model: expected a network compiled from networks.pong.pong()")
    if paddle == "follower":
        paddle = Follower()
    if not (isinstance(paddle, Follower) or paddle in ("slider", "open")):
        raise ValidationError(f"nengo_model: paddle must be 'slider', 'follower', 'open' or a Follower, got {paddle!r}")
    inputs = {"paddle": 0.0} if paddle == "slider" else {}
    net = nb.build(rnn, inputs=inputs, neurons=neurons, initial=initial, label=label, **build_options)
    net.player = None
    with net:
        if isinstance(paddle, Follower):
            net.player = nengo.Node(_follower_process(paddle), size_in=1, size_out=1, label="paddle (follower)")
            # the output Node already carries the units' synapse: no extra filter
            nengo.Connection(net.outputs["ball_x"], net.player, synapse=None)
            nengo.Connection(net.player, net.inputs["paddle"], synapse=None)
            net.paddle = net.player
        elif paddle == "slider":
            net.paddle = net.sources["paddle"]
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
def _clip(value: float, limit: float = 0.1) -> float:
    value = float(value)
    return min(max(value, -limit), limit) if math.isfinite(value) else 0.0


def arena_svg(ball_x: float, ball_y: float, paddle: float, size: int = 200) -> str:
    """An SVG drawing of the arena: walls, floor, the paddle's disc and row, and the ball.

    Coordinates: the box ``[-0.1, 0.1]^2`` fills a ``size`` x ``size`` picture
    (values outside are drawn at its edge).
    """
    k = size / 0.2

    def px(x: float) -> str:
        return f"{(x + 0.1) * k:.1f}"

    def py(y: float) -> str:
        return f"{(0.1 - y) * k:.1f}"

    p = _clip(paddle)
    return (
        f'<svg width="100%" height="100%" viewBox="0 0 {size} {size}" xmlns="http://www.w3.org/2000/svg">'
        f'<rect x="0" y="0" width="{size}" height="{size}" fill="#fafafa" stroke="#999"/>'
        f'<rect x="{px(-WALL)}" y="{py(WALL)}" width="{2 * WALL * k:.1f}" height="{(WALL - FLOOR) * k:.1f}" '
        f'fill="none" stroke="#333" stroke-dasharray="4 2"/>'
        f'<line x1="0" y1="{py(FLOOR)}" x2="{size}" y2="{py(FLOOR)}" stroke="#8c564b" stroke-width="2"/>'
        f'<circle cx="{px(p)}" cy="{py(PADDLE_ROW)}" r="{math.sqrt(0.002) * k:.1f}" fill="#1f77b4" fill-opacity="0.12"/>'
        f'<line x1="{px(p - 0.02)}" y1="{py(PADDLE_ROW)}" x2="{px(p + 0.02)}" y2="{py(PADDLE_ROW)}" '
        f'stroke="#1f77b4" stroke-width="4" stroke-linecap="round"/>'
        f'<circle cx="{px(_clip(ball_x))}" cy="{py(_clip(ball_y))}" r="{size / 40:.1f}" fill="#d62728"/></svg>'
    )


def add_arena_view(net, label: str = "arena", frame: float = 0.05):
    """Add a Node to ``net`` that draws the game (``_nengo_html_``, nengo_gui's HTML view).

    It reads ``ball_x``, ``ball_y`` and the paddle (``net.paddle``, see
    :func:`nengo_model`) and passes them through as a 3-D value (so it can also
    be plotted).  The drawing is redone every ``frame`` simulated seconds, not
    every step, which keeps the page in real time.  Returns the Node (also
    ``net.arena``).
    """
    import nengo

    frame = validation.number(frame, "frame", "add_arena_view", minimum=0.0, unit="seconds")
    with net:
        net.arena = nengo.Node(_ArenaDraw(float(frame)), size_in=3, size_out=3, label=label)
        nengo.Connection(net.outputs["ball_x"], net.arena[0], synapse=None)
        nengo.Connection(net.outputs["ball_y"], net.arena[1], synapse=None)
        nengo.Connection(net.paddle, net.arena[2], synapse=None)
    return net.arena


class _ArenaDraw:
    """The arena Node's function: passes ``(ball_x, ball_y, paddle)`` through and keeps the SVG that
    nengo_gui's HTML view shows (``_nengo_html_``) redrawn every ``frame`` simulated seconds."""

    def __init__(self, frame: float):
        self.frame, self.last = frame, -math.inf
        self._nengo_html_ = arena_svg(0.0, 0.0, 0.0)

    def __call__(self, t: float, x: np.ndarray) -> np.ndarray:
        if t < self.last or t - self.last >= self.frame:  # t < last: the simulator was reset
            self.last = t
            self._nengo_html_ = arena_svg(x[0], x[1], x[2])
        return x
