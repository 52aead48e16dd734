"""Pong (docs/method.md §4.5): the program, its ODE reference, the metric on every backend,
a closed loop with a live paddle on nengo (the nengo_gui page, examples/gui_pong.py: tests/test_gui_pong.py).

The metric runs 10 simulated seconds on reference and nengo; nengo_dl and brian2 run
2.5 s by default (one bounce of each kind; nengo_dl's 2.5 s take 13-18 s of wall time,
brian2's 10 s 7-10 s) and 10 s under ``-m slow``.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import sympy

import npl_nengo as npl
from npl_nengo import pong_app
from npl_nengo.errors import ValidationError
from npl_nengo.networks import logic, pong

ROOT = Path(__file__).resolve().parents[1]
#: Bounces of the ODE reference in 10 s with the default follower.
ODE_COUNTS = {"right": 4, "left": 4, "top": 4, "paddle": 5, "floor": 0, "spurious": 0}
#: The slow backends' default run: the first right, left, top and paddle bounces (by 1.9 s).
SHORT = 2.5


@pytest.fixture(scope="module")
def rnn():
    return pong_app.compiled()  # taylor, N = 1360 = 2 K, seed 0


def test_program_is_the_reference_program():
    p = pong.pong()
    assert p.states == ("ball_x", "right", "left", "ball_y", "up", "down", "hit_right", "hit_left", "hit_top",
                        "hit_paddle", "speed_x", "speed_y", "hit_floor")
    assert p.inputs == ("paddle",)
    assert set(pong.VARIABLES.values()) == set(p.variables)
    assert p.degree == 3 and math.comb(len(p.variables) + 3, 3) == 680
    s = {v: sympy.Symbol(v, real=True) for v in p.variables}
    R = sympy.Rational
    xf, c, a = R(1, 10), R(3, 13), -R(3, 13) / (3 * R(1, 40) ** 2)

    def nor(out, other, drive):
        return 20 * (-xf + (drive - 2 * xf) * (other - xf) / (2 * xf) + c * out + a * out**3)

    eps = sympy.Float(3e-5)
    expected = {
        "ball_x": 10 * s["right"] * s["speed_x"],
        "right": nor(s["right"], s["left"], 10 * s["hit_right"] ** 2),
        "left": nor(s["left"], s["right"], 10 * s["hit_left"] ** 2),
        "down": nor(s["down"], s["up"], 100 * s["hit_paddle"] ** 2 + 10 * s["hit_floor"] ** 2),
        "hit_right": 1000 * ((s["ball_x"] - R(1, 20)) * s["hit_right"] - s["hit_right"] ** 3 + eps),
        "hit_paddle": 2000 * ((R(2, 1000) - (s["ball_x"] - s["paddle"]) ** 2 - (s["ball_y"] + R(1, 20)) ** 2)
                              * s["hit_paddle"] - s["hit_paddle"] ** 3 + eps),
        "hit_floor": 1000 * ((R(-65, 1000) - s["ball_y"]) * s["hit_floor"] - s["hit_floor"] ** 3 + eps),
        "speed_x": 0, "speed_y": 0,
    }
    for var, rhs in expected.items():
        diff = sympy.expand(p.derivatives[var] - rhs)
        assert all(abs(float(coeff)) < 1e-12 for coeff in sympy.Poly(diff, *s.values()).coeffs()), var
    assert a == R(-1600, 13)
    assert p.initial["speed_x"] == 0.15 and p.initial["speed_y"] == 0.12


def test_compiles_with_both_methods(rnn):
    assert rnn.n_neurons == 1360 and rnn.method == "taylor" and rnn.input_names == ("paddle",)
    assert float(np.max(rnn.residual)) < 1e-6  # exact in the cubic basis
    sampled = npl.compile(pong.pong(), n_neurons=200, method="sampled", seed=0)
    assert sampled.n_neurons == 200 and sampled.output_names == rnn.output_names


def test_ode_reference_bounces_off_walls_and_paddle():
    ref = pong.simulate_ode(duration=10.0)
    b = pong.bounces(ref)
    assert b["counts"] == ODE_COUNTS
    assert b["inside"]
    # the follower sits under the ball whenever the paddle bounces it
    for t, kind in b["events"]:
        if kind == "paddle":
            i = int(round(t / ref.dt)) - 1
            assert abs(ref["paddle"][i] - ref["ball_x"][i]) < 0.03 and ref["ball_y"][i] < -0.03


def test_a_missed_ball_bounces_off_the_floor():
    """A paddle out of reach misses every ball; the floor keeps the ball in the arena."""
    b = pong.bounces(pong.simulate_ode(duration=10.0, paddle=0.3))
    assert b["counts"]["paddle"] == 0 and b["counts"]["floor"] == 3 and b["inside"]
    slow = pong.bounces(pong.simulate_ode(duration=10.0, paddle=pong.Follower(max_speed=0.01)))
    assert slow["counts"]["floor"] >= 1 and slow["counts"]["paddle"] >= 1 and slow["inside"]


def test_exact_pitchforks_never_fire_and_gain_50_misses():
    """Why the program has a seed and paddle gain 100 (module docstring)."""
    exact = pong.bounces(pong.simulate_ode(pong.pong(seed=0.0), duration=2.0))
    assert sum(exact["counts"].values()) == 0 and not exact["inside"]
    half = pong.bounces(pong.simulate_ode(pong.pong(paddle_gain=50), duration=10.0), paddle_gain=50)
    assert half["counts"]["floor"] >= 1 and half["counts"]["paddle"] < ODE_COUNTS["paddle"]


def test_metric_on_every_backend(rnn, backend):
    slow = backend in ("nengo_dl", "brian2")
    duration = SHORT if slow else 10.0
    options = {"dtype": "float64"} if backend == "nengo_dl" else {}  # min-norm weights need float64
    score = pong.pong_metric(rnn, backend=backend, duration=duration, **options)
    assert score.passed, (score.details, score.rows)
    d = score.details
    assert d["misses"] == 0 and d["spurious"] == 0 and d["inside"]
    assert d["bounces"] >= (4 if slow else 15)
    # RK4 keeps the ODE's clock; the zoh step of the other backends runs the game's clock
    # (1 - exp(-gamma dt)) / (gamma dt) = 0.952 times as fast, so their bounces fall behind
    if backend == "reference":
        assert d["max_shift"] < 0.15 and score.error < 0.03


@pytest.mark.slow
@pytest.mark.parametrize("backend_name", ["nengo_dl", "brian2"])
def test_metric_ten_seconds_on_the_slow_backends(rnn, backend_name):
    options = {"dtype": "float64"} if backend_name == "nengo_dl" else {}
    score = pong.pong_metric(rnn, backend=backend_name, duration=10.0, **options)
    assert score.passed, (score.details, score.rows)
    assert score.details["bounces"] >= 15 and score.details["misses"] == 0


def test_metric_can_fail():
    """The noise-aware sampled fit is too coarse for the detectors (errors ~1 /s against a 0.03 /s seed)."""
    sampled = npl.compile(pong.pong(), n_neurons=1400, method="sampled", seed=0)
    score = pong.pong_metric(sampled, duration=SHORT)
    assert not score.passed
    assert score.details["spurious"] + score.details["misses"] > 0


def test_closed_loop_on_nengo_follower_reads_the_ball(rnn):
    """A scripted paddle that follows the ball (a Node reading the network's ball_x)
    keeps the ball bouncing off walls and paddle for 10 simulated seconds."""
    result = pong_app.closed_loop(rnn, duration=10.0)
    b = pong.bounces(result)
    c = b["counts"]
    assert b["inside"] and c["floor"] == 0 and c["spurious"] == 0
    assert min(c["right"], c["left"], c["top"], c["paddle"]) >= 3
    assert result.t[-1] == pytest.approx(10.0)
    # it follows the ball: at each paddle bounce the paddle is within the disc's reach
    for t, kind in b["events"]:
        if kind == "paddle":
            i = int(round(t / result.dt)) - 1
            assert abs(result["paddle"][i] - result["ball_x"][i]) < 0.03


def test_nengo_model_paddle_modes(rnn):
    import nengo

    slider = pong_app.nengo_model(rnn, paddle="slider")
    assert slider.paddle.label == "paddle (slider)" and slider.paddle.output == 0.0 and slider.player is None
    open_net = pong_app.nengo_model(rnn, paddle="open")
    assert open_net.paddle is open_net.inputs["paddle"]
    node = pong_app.add_arena_view(slider)
    assert node.size_out == 3 and "<svg" in node.output._nengo_html_
    with pytest.raises(ValidationError, match="paddle must be"):
        pong_app.nengo_model(rnn, paddle="mouse")
    with pytest.raises(ValidationError, match="compiled from"):
        pong_app.nengo_model(npl.compile(logic.gate("nand"), n_neurons=30))
    assert isinstance(slider, nengo.Network)


def test_validation():
    with pytest.raises(ValidationError, match="speed_x"):
        pong.pong(speed_x=0)
    with pytest.raises(ValidationError, match="start"):
        pong.pong(start=(0.2, 0.0))
    with pytest.raises(ValidationError, match="direction"):
        pong.pong(direction=(0, 1))
    with pytest.raises(ValidationError, match="seed"):
        pong.pong(seed=-1e-5)
    with pytest.raises(ValidationError, match="floor"):
        pong.pong(floor=0.0)
    with pytest.raises(ValidationError, match="tau"):
        pong.Follower(tau=0)
    with pytest.raises(ValidationError, match="duration"):
        pong.simulate_ode(duration=-1)
    with pytest.raises(ValidationError, match="not a pong network"):
        pong.pong_metric(npl.compile(logic.gate("nand"), n_neurons=30))
    with pytest.raises(ValidationError, match="lacks"):
        pong.simulate_ode(logic.gate("nand"))
