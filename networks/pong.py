"""Pong as a programmed reservoir (docs/method.md §4.5), with a floor so a miss stays in the arena.

The ball is a point moving at constant speed whose velocity signs are held in
two SR latches (cross-coupled NOR gates, the logic gates of §4.2 at levels
±0.1).  Collisions are pitchfork detectors: a detector variable sits near 0
until the ball crosses its wall (or enters the paddle's disc), then grows to
``±sqrt(depth)`` and its square sets or resets a latch.  All terms have degree
<= 3, so the taylor compiler's cubic basis programs it exactly.

Variables (reference name -> name here):

======  ============  =========================================================
x1      ``ball_x``    ball x: ``d/dt = 10 right speed_x``
x2, x3  ``right``,    x-velocity latch (NOR form): ``right`` is True (+0.1)
        ``left``      while the ball moves right; the right-wall detector
                      sets ``left``, the left-wall detector sets ``right``
x4      ``ball_y``    ball y: ``d/dt = 10 up speed_y``
x5, x6  ``up``,       y-velocity latch: the top-wall detector sets ``down``,
        ``down``      the paddle and the floor detectors set ``up``
x7      ``hit_right`` right-wall detector (wall at ``x = +0.05``)
x8      ``hit_left``  left-wall detector (wall at ``x = -0.05``)
x9      ``hit_top``   top-wall detector (wall at ``y = +0.05``)
x10     ``hit_paddle`` paddle detector: a disc of radius ``sqrt(0.002)`` around
                      ``(paddle, -0.05)``
x11     ``paddle``    paddle x: the external **input** (not fed back)
x12     ``speed_x``   x speed magnitude (constant: zero derivative, initial value)
x13     ``speed_y``   y speed magnitude (constant)
x14     ``hit_floor`` floor detector (floor at ``y = -0.065``, added here)
======  ============  =========================================================

The latches are the reference's, e.g. ``d(right)/dt = 20 [-0.1 + (10 hit_right^2 - 0.2)
(left - 0.1) / 0.2 + c right + a right^3]`` with ``c = 3/13``, ``a = -c / (3 * 0.025^2)``.
Four deliberate changes make the program work, as an ODE and as a network:

* **Seeded detectors** (imperfect pitchforks): every detector gets a constant
  ``+ seed`` (default ``3e-5``) inside its bracket.  An exact pitchfork started
  at 0 never leaves 0 (``seed=0``: the ball flies off).  The seed also sets how
  fast a detector fires: with ``3e-5`` the ball turns about 0.03 beyond a wall;
  with ``1e-6`` it turns up to 0.05 beyond and the paddle's disc, whose growth
  rate is at most ``2000 * 0.002 = 4 /s``, never catches it at the default
  speeds (ODE, 10 s: 0 paddle and 3 floor bounces, against 5 and 0).
* **Paddle gain 100** instead of the reference's 50: the latch flips once its
  set input ``g hit_paddle^2`` exceeds about 0.104, and ``hit_paddle^2`` stays
  near the disc's depth, at most 0.002 (0.0024 with the seed).  With 50 only a
  ball through the middle of the disc bounces (ODE, 10 s: 3 paddle bounces
  and 1 miss with the same follower that catches all 5 with 100).
* **Speeds scaled to the other variables' size**: ``d(ball_x)/dt = 10 right
  speed_x`` with ``speed_x = 0.15`` (units/s) instead of ``right x12`` with
  ``x12 = 1.5``.  The taylor network is exact up to degree 3 in ``B x``; a
  variable of size 1.5 makes the degree-4 remainder large (measured along the
  game, N = 1360: vector-field errors up to 35 /s in the latches instead of
  0.12 /s, and the ball left the arena after 3 s).
* **A floor** (``hit_floor``) 0.015 below the paddle row resets the y latch
  like the paddle does, so a ball the paddle misses bounces off the floor
  instead of leaving the arena; a *miss* is a bounce the floor detector caused
  (:func:`bounces` counts them).

Public functions: :func:`pong` (the program), :func:`simulate_ode` (scipy
reference with a paddle input or a :class:`Follower`), :func:`follower_paddle`
(the follower's paddle precomputed, an input every backend takes),
:func:`bounces` (count and classify bounces in any run), :func:`pong_metric`
(a :class:`~npl_nengo.metrics.Score` on any backend).  The game played live on
nengo (the compile cached for nengo_gui, a slider or follower paddle, the arena
drawn) is the app :mod:`npl_nengo.pong_app`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Mapping

import numpy as np
import sympy

from ..simulation import run
from ..errors import ValidationError
from .. import validation
from ..inputs import Inputs
from ..metrics import Score, fails_on_divergence
from ..program import Program
from ..result import Result
from ..rnn import ProgrammedRNN

__all__ = [
    "VARIABLES", "WALL", "PADDLE_ROW", "FLOOR", "ARENA", "LEVEL",
    "pong", "Follower", "simulate_ode", "follower_paddle", "bounces", "pong_metric",
]

#: Reference variable -> name in :func:`pong` (``x11`` is the input).
VARIABLES: dict[str, str] = {
    "x1": "ball_x", "x2": "right", "x3": "left", "x4": "ball_y", "x5": "up", "x6": "down",
    "x7": "hit_right", "x8": "hit_left", "x9": "hit_top", "x10": "hit_paddle", "x11": "paddle",
    "x12": "speed_x", "x13": "speed_y", "x14": "hit_floor",
}
#: Side and top walls at ``±WALL`` (``x_w = y_w``).
WALL = 0.05
#: The paddle's row ``y_p``.
PADDLE_ROW = -0.05
#: The floor (added here), 0.015 below the paddle row.
FLOOR = -0.065
#: Logic level of the latches (True = +0.1).
LEVEL = 0.1
#: The ball must stay in this box (the declared ranges of ``ball_x`` and ``ball_y``).
ARENA: dict[str, tuple[float, float]] = {"ball_x": (-0.1, 0.1), "ball_y": (-0.12, 0.1)}

# Exact constants as text, so the parser builds rationals (as networks/logic.py).
_XF, _C, _A = "(1/10)", "(3/13)", "(-1600/13)"


def _latch(out: str, other: str, drive: str) -> str:
    """NOR latch half: ``20 [-xf + (drive - 2 xf)(other - xf)/(2 xf) + c out + a out^3]``."""
    return f"20*(-{_XF} + ({drive} - 2*{_XF})*({other} - {_XF})/(2*{_XF}) + {_C}*{out} + {_A}*{out}**3)"


def _number(value: Any, name: str, low: float | None = None, high: float | None = None) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValidationError(f"pong: {name} must be a number, got {value!r}") from None
    if not math.isfinite(value) or (low is not None and value <= low) or (high is not None and value >= high):
        bounds = f" in ({low}, {high})" if high is not None else f" > {low}" if low is not None else ""
        raise ValidationError(f"pong: {name} must be a finite number{bounds}, got {value!r}")
    return value


def pong(
    speed_x: float = 0.15,
    speed_y: float = 0.12,
    start: tuple[float, float] = (0.0, 0.0),
    direction: tuple[int, int] = (1, -1),
    seed: float = 3e-5,
    paddle_gain: float = 100.0,
    floor: float = FLOOR,
) -> Program:
    """The pong program: 13 state variables (x1-x10, x12-x14) and the input ``paddle`` (x11).

    See the module docstring for the variables and the changes from the reference.

    Parameters
    ----------
    speed_x, speed_y
        Speed magnitudes ``x12``, ``x13`` (held constant) in units per second:
        ``d(ball_x)/dt = 10 right speed_x`` with ``|right| = 0.1`` (see the module
        docstring for the factor 10).
    start
        Initial ball position ``(ball_x, ball_y)``, inside the walls.
    direction
        Initial velocity signs ``(+1 right | -1 left, +1 up | -1 down)``.
    seed
        Constant seed of the pitchfork detectors (0 gives the exact pitchforks,
        which never leave 0 in an exact ODE).
    paddle_gain
        Gain ``g`` of ``g hit_paddle^2`` in the y latch (reference: 50, which
        flips it only for a ball through the middle of the disc; 100 here).
    floor
        y of the floor detector, below the paddle row.

    Returns
    -------
    Program
        Taylor-compilable (degree 3): 13 states and 1 input give ``K = C(14 + 3, 3) = 680``
        monomials, so ``npl_nengo.compile(pong(), method="taylor")`` uses ``N = 1360`` by default.
    """
    sx = _number(speed_x, "speed_x", 0.0)
    sy = _number(speed_y, "speed_y", 0.0)
    try:
        x_start, y_start = start
        x_direction, y_direction = direction
    except (TypeError, ValueError):
        raise ValidationError(f"pong: start and direction must be pairs, got {start!r} and {direction!r}") from None
    x0 = _number(x_start, "start[0] (ball x)", -WALL, WALL)
    y0 = _number(y_start, "start[1] (ball y)", PADDLE_ROW, WALL)
    if x_direction not in (-1, 1) or y_direction not in (-1, 1):
        raise ValidationError(f"pong: direction must be a pair of ±1, got {direction!r}")
    eps = _number(seed, "seed")
    if not 0 <= eps < 1e-3:
        raise ValidationError(f"pong: seed must be in [0, 0.001), got {seed!r}")
    gain = _number(paddle_gain, "paddle_gain", 0.0)
    yf = _number(floor, "floor", -0.09, PADDLE_ROW)
    s = f" + {eps!r}" if eps else ""
    w, yp = WALL, PADDLE_ROW
    derivatives = {
        "ball_x": "10*right*speed_x",
        "right": _latch("right", "left", "10*hit_right**2"),
        "left": _latch("left", "right", "10*hit_left**2"),
        "ball_y": "10*up*speed_y",
        "up": _latch("up", "down", "10*hit_top**2"),
        "down": _latch("down", "up", f"{gain!r}*hit_paddle**2 + 10*hit_floor**2"),
        "hit_right": f"1000*((ball_x - {w})*hit_right - hit_right**3{s})",
        "hit_left": f"1000*((-{w} - ball_x)*hit_left - hit_left**3{s})",
        "hit_top": f"1000*((ball_y - {w})*hit_top - hit_top**3{s})",
        "hit_paddle": f"2000*((0.002 - (ball_x - paddle)**2 - (ball_y - ({yp}))**2)*hit_paddle - hit_paddle**3{s})",
        "speed_x": "0",
        "speed_y": "0",
        "hit_floor": f"1000*(({yf} - ball_y)*hit_floor - hit_floor**3{s})",
    }
    latch = (-0.15, 0.15)
    ranges = {
        "ball_x": ARENA["ball_x"], "right": latch, "left": latch, "ball_y": ARENA["ball_y"], "up": latch, "down": latch,
        "hit_right": (-0.25, 0.25), "hit_left": (-0.25, 0.25), "hit_top": (-0.25, 0.25),
        "hit_paddle": (-0.07, 0.07), "speed_x": (0.0, 2 * sx), "speed_y": (0.0, 2 * sy), "hit_floor": (-0.25, 0.25),
    }
    right = LEVEL if x_direction > 0 else -LEVEL
    up = LEVEL if y_direction > 0 else -LEVEL
    initial = {"ball_x": x0, "right": right, "left": -right, "ball_y": y0, "up": up, "down": -up,
               "speed_x": sx, "speed_y": sy}
    initial.update({v: 0.0 for v in ("hit_right", "hit_left", "hit_top", "hit_paddle", "hit_floor")})
    return Program(
        "pong", derivatives=derivatives, inputs={"paddle": (-0.1, 0.1)}, ranges=ranges, initial=initial,
        description="pong (docs/method.md §4.5): ball, two NOR velocity latches, pitchfork wall/paddle/floor detectors",
    )


# -- the scripted paddle ----------------------------------------------------------------------
@dataclass(frozen=True)
class Follower:
    """A scripted player: the paddle chases the ball's x with a lag and a speed limit.

    ``d(paddle)/dt = clip((ball_x - paddle) / tau, -max_speed, max_speed)``.

    Attributes
    ----------
    tau
        Time constant of the chase (s).
    max_speed
        Fastest the paddle moves (units/s; the ball moves at ``speed_x``, 0.15 by default).
    start
        Paddle position at t = 0.
    """

    tau: float = 0.1
    max_speed: float = 0.2
    start: float = 0.0

    def __post_init__(self) -> None:
        for name in ("tau", "max_speed"):
            validation.number(getattr(self, name), name, "Follower", positive=True)
        validation.number(self.start, "start", "Follower")

    def velocity(self, paddle: float, ball_x: float) -> float:
        """The paddle's velocity when it is at ``paddle`` and the ball at ``ball_x``."""
        return float(np.clip((ball_x - paddle) / self.tau, -self.max_speed, self.max_speed))


def _check_program(program: Program) -> None:
    if not isinstance(program, Program):
        raise ValidationError(f"pong: expected the pong Program, got {type(program).__name__}")
    missing = [v for v in VARIABLES.values() if v not in program.variables]
    if missing:
        raise ValidationError(f"pong: program {program.name!r} lacks {missing} (build it with pong())")


def simulate_ode(
    program: Program | None = None,
    duration: float = 10.0,
    paddle: Any = None,
    dt: float = 1e-3,
    initial: Mapping[str, float] | None = None,
    rtol: float = 1e-8,
    atol: float = 1e-10,
) -> Result:
    """Integrate the pong program with ``scipy.integrate.solve_ivp`` (the reference the networks emulate).

    Parameters
    ----------
    program
        The pong program (default ``pong()``).
    duration, dt
        Simulated seconds, and the sample spacing (samples at ``dt, 2 dt, ...``
        like a network run's).
    paddle
        The paddle: a :class:`Follower` (default ``Follower()``, integrated
        with the game), or any input a backend takes (number, array with one
        sample per ``dt`` step, callable of t).
    initial
        ``{variable: value}`` overriding the program's initial values.

    Returns
    -------
    Result
        ``backend="ode"``, one output per state variable plus ``"paddle"``.
    """
    from scipy.integrate import solve_ivp

    program = pong() if program is None else program
    _check_program(program)
    duration = validation.number(duration, "duration", "simulate_ode", positive=True, unit="seconds")
    dt = validation.number(dt, "dt", "simulate_ode", positive=True, unit="seconds")
    if dt > duration:
        raise ValidationError(f"simulate_ode: dt={dt} s is longer than the duration {duration} s")
    paddle = Follower() if paddle is None else paddle
    follower = paddle if isinstance(paddle, Follower) else None
    source = None if follower else _continuous(paddle, dt)
    states = program.states
    unknown = [v for v in (initial or {}) if v not in states]
    if unknown:
        raise ValidationError(f"simulate_ode: initial value for {unknown[0]!r}, which is not a state of {program.name!r}")
    x0 = np.array([{**program.initial, **(initial or {})}.get(v, 0.0) for v in states], dtype=float)
    ix = states.index("ball_x")
    # One function for the whole right-hand side.  program.evaluate (one call per output,
    # with its validation) would give the same numbers but takes ~13 s for 10 s of game;
    # lambdify over the program's own whitelisted sympy tree (as Program.evaluate does) ~1 s.
    f = sympy.lambdify([program.symbols[v] for v in program.variables],
                       [program.derivatives[v] for v in states], modules="numpy")
    iu = len(states)

    def rhs(t: float, y: np.ndarray) -> np.ndarray:
        if follower is not None:
            p = y[-1]
            return np.array([*f(*y[:iu], p), follower.velocity(p, y[ix])], dtype=float)
        assert source is not None  # no follower: a given paddle
        return np.array(f(*y[:iu], source(t)), dtype=float)

    if follower:
        x0 = np.append(x0, follower.start)
    n = int(round(duration / dt))
    t = dt * np.arange(1, n + 1)
    # LSODA: stiff while a latch flips or a detector fires, non-stiff in between; max_step
    # keeps it from stepping over the start of a bounce.
    sol = solve_ivp(rhs, (0.0, t[-1]), x0, method="LSODA", t_eval=t, rtol=rtol, atol=atol, max_step=10 * dt)
    if not sol.success:
        raise ValidationError(f"simulate_ode: the integration failed ({sol.message})")
    outputs = {v: sol.y[i] for i, v in enumerate(states)}
    outputs["paddle"] = sol.y[-1] if source is None else np.array([source(ti) for ti in t])
    return Result(t=t, outputs=outputs, backend="ode", neurons="ode", dt=dt, seed=None, name=program.name,
                  info={"nfev": sol.nfev, "follower": follower})


def _continuous(paddle: Any, dt: float) -> Callable[[float], float]:
    """A paddle input as a function of t for the ODE.

    Arrays are interpolated linearly through the sample times ``(i + 1) dt`` (a
    piecewise-constant input would make the solver restart at every step:
    38 s instead of 1 s for 10 s of game).
    """
    Inputs(("paddle",), {"paddle": paddle}, dt)  # validated as a backend validates it
    if callable(paddle):
        return lambda t: float(paddle(t))
    arr = np.asarray(paddle, dtype=float)
    if arr.ndim == 0:
        return lambda t: float(arr)
    arr = arr.reshape(-1)
    times = dt * np.arange(1, len(arr) + 1)
    return lambda t: float(np.interp(t, times, arr))


@lru_cache(maxsize=8)
def _default_follower(duration: float, dt: float) -> Result:
    return simulate_ode(pong(), duration, Follower(), dt)


def follower_paddle(duration: float = 10.0, dt: float = 1e-3, program: Program | None = None,
                    follower: Follower | None = None) -> np.ndarray:
    """The :class:`Follower`'s paddle from an ODE run of ``program``: one sample per ``dt`` step.

    An array input every backend takes (``inputs={"paddle": follower_paddle()}``);
    it leads the open-loop network's ball as it led the ODE's.  Sample ``i``
    is the paddle at ``(i + 1) dt``, so it covers ``[i dt, (i + 1) dt)`` with the
    position the follower reaches at the end of that step.
    """
    if program is None and follower is None:
        return _default_follower(float(duration), float(dt))["paddle"].copy()
    return simulate_ode(program, duration, follower or Follower(), dt)["paddle"]


# -- reading a run --------------------------------------------------------------------------------
def _flips(signal: np.ndarray, threshold: float) -> list[tuple[int, int]]:
    """``(index, new sign)`` each time ``signal`` crosses from beyond ``∓threshold`` to beyond ``±threshold``."""
    out, state = [], 0
    for i in np.flatnonzero(np.abs(signal) > threshold):
        sign = 1 if signal[i] > 0 else -1
        if state and sign != state:
            out.append((int(i), sign))
        state = sign
    return out


def bounces(result: Result, paddle_gain: float = 100.0, threshold: float = 0.05) -> dict[str, Any]:
    """Count and classify the bounces of a pong run (any backend, or :func:`simulate_ode`).

    A bounce is a flip of a velocity latch (``right`` for x, ``up`` for y)
    through ``±threshold``.  x flips to the left with the ball right of centre
    are ``"right"`` wall bounces, to the right with the ball left of centre
    ``"left"``; y flips down above centre are ``"top"``; y flips up below
    centre are ``"paddle"`` or ``"floor"`` (a miss) by which detector drove the
    reset harder (``paddle_gain * hit_paddle^2`` against ``10 * hit_floor^2``).
    Anything else is ``"spurious"``.

    Returns
    -------
    dict
        ``counts`` (per kind), ``events`` (list of ``(t, kind)``), ``inside``
        (whether the ball stayed in :data:`ARENA`), ``extent`` (ball x and y
        minimum and maximum).
    """
    bx, by = result["ball_x"], result["ball_y"]
    events: list[tuple[float, str]] = []
    for i, sign in _flips(result["right"], threshold):
        kind = "right" if sign < 0 and bx[i] > 0 else "left" if sign > 0 and bx[i] < 0 else "spurious"
        events.append((float(result.t[i]), kind))
    hp, hf = result["hit_paddle"], result["hit_floor"]
    for i, sign in _flips(result["up"], threshold):
        if sign < 0:
            kind = "top" if by[i] > 0 else "spurious"
        elif by[i] < 0:
            # the detectors peak while the latch flips: look 50 ms either side of the flip
            half = max(1, int(round(0.05 / float(result.t[1] - result.t[0])))) if len(result.t) > 1 else 1
            window = slice(max(i - half, 0), i + half)
            kind = "paddle" if paddle_gain * np.max(hp[window] ** 2) >= 10 * np.max(hf[window] ** 2) else "floor"
        else:
            kind = "spurious"
        events.append((float(result.t[i]), kind))
    events.sort()
    counts = {k: sum(1 for _, e in events if e == k) for k in ("right", "left", "top", "paddle", "floor", "spurious")}
    extent = {"ball_x": (float(bx.min()), float(bx.max())), "ball_y": (float(by.min()), float(by.max()))}
    inside = all(ARENA[v][0] <= lo and hi <= ARENA[v][1] for v, (lo, hi) in extent.items())
    return {"counts": counts, "events": events, "inside": bool(inside), "extent": extent}


@fails_on_divergence("pong")
def pong_metric(
    rnn: ProgrammedRNN,
    backend: str = "reference",
    neurons: str = "rate",
    duration: float = 10.0,
    dt: float = 1e-3,
    paddle: Any = None,
    program: Program | None = None,
    min_bounces: int = 1,
    **run_options: Any,
) -> Score:
    """Run pong on a backend with a precomputed paddle and check the game.

    The paddle defaults to :func:`follower_paddle` (the follower from the ODE
    reference, an array every backend takes; no feedback from the network).
    The run passes when the ball stays inside :data:`ARENA`, no bounce is
    spurious, the paddle misses nothing the ODE's paddle caught (floor
    bounces no more than the ODE's), and each of right, left, top and paddle
    bounces happens at least ``min_bounces`` times and at least as often as
    in the ODE reference minus one (a late last bounce).

    Parameters
    ----------
    rnn
        A network compiled from :func:`pong` (``program``, default ``pong()``).
    backend, neurons, dt, **run_options
        Passed to :func:`npl_nengo.run`.
    duration
        Simulated seconds (10 s: 8 side-wall, 4 top and 5 paddle bounces at the default speeds).
    paddle
        Paddle input (any input a backend takes); default the follower's.

    Returns
    -------
    Score
        ``metric="pong"``, ``error`` = largest ``|ball - ODE ball|`` (x or y),
        ``rows`` = the bounce events ``{"t", "kind", "t_ode"}``, ``details`` =
        counts, the ODE's counts, extent.
    """
    if not isinstance(rnn, ProgrammedRNN):
        raise ValidationError(f"pong_metric: expected a ProgrammedRNN, got {type(rnn).__name__}")
    missing = [v for v in ("ball_x", "ball_y", "right", "up", "hit_paddle", "hit_floor") if v not in rnn.output_names]
    if missing or "paddle" not in rnn.input_names:
        raise ValidationError(f"pong_metric: {rnn.name!r} is not a pong network (compile networks.pong.pong())")
    if isinstance(min_bounces, bool) or not isinstance(min_bounces, int) or min_bounces < 0:
        raise ValidationError(f"pong_metric: min_bounces must be a non-negative integer, got {min_bounces!r}")
    if paddle is None:
        reference = _default_follower(float(duration), float(dt)) if program is None else \
            simulate_ode(program, duration, Follower(), dt)
        paddle = reference["paddle"].copy()
    else:
        reference = simulate_ode(program, duration, paddle, dt)
    result = run(rnn, {"paddle": paddle}, duration=duration, backend=backend, neurons=neurons, dt=dt, **run_options)
    gain = _paddle_gain(program)
    got, want = bounces(result, gain), bounces(reference, gain)
    c, w = got["counts"], want["counts"]
    ok = got["inside"] and c["spurious"] == 0 and c["floor"] <= w["floor"]  # no miss the ODE's paddle did not make
    for kind in ("right", "left", "top", "paddle"):
        ok = ok and c[kind] >= max(min_bounces, w[kind] - 1)
    error = max(float(np.max(np.abs(result[v] - reference[v]))) for v in ("ball_x", "ball_y"))
    ode_times = {kind: [t for t, k in want["events"] if k == kind] for kind in c}
    seen: dict[str, int] = {}
    rows = []
    for t, kind in got["events"]:
        j = seen[kind] = seen.get(kind, -1) + 1
        rows.append({"t": t, "kind": kind, "t_ode": ode_times[kind][j] if j < len(ode_times[kind]) else None})
    shifts = [abs(r["t"] - r["t_ode"]) for r in rows if r["t_ode"] is not None]
    details = {"bounces": sum(c[k] for k in ("right", "left", "top", "paddle")), "misses": c["floor"],
               **c, "ode": w, "max_shift": max(shifts, default=0.0), "extent": got["extent"], "inside": got["inside"]}
    return Score("pong", bool(ok), error, rows, details, result)


def _paddle_gain(program: Program | None) -> float:
    if program is None:
        return 100.0
    _check_program(program)
    coeff = program.derivatives["down"].expand().coeff(program.symbols["hit_paddle"] ** 2 * program.symbols["up"])
    # d(down)/dt = 20 (g hp^2 up / 0.2 + ...): the coefficient of hp^2 up is 100 g
    return float(coeff) / 100.0 if coeff else 100.0
