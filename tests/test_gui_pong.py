"""Pong played in the Nengo GUI (examples/gui_pong.py): the arena, the keyboard paddle, the score.

The browser test drives headless Chromium as tests/test_gui.py does (same fixture, same
skip/fail rules) and saves a screenshot of the page in /tmp/pong_shots/.  The other tests
check the app's catch/miss accounting and the GUI options without a browser.
"""

from __future__ import annotations

import runpy
import time
from pathlib import Path

import nengo
import numpy as np
import pytest

from npl_nengo import gui, pong_app
from npl_nengo.errors import ValidationError
from npl_nengo.networks.pong import WALL

# the browser fixture and page helpers of the GUI suite
from test_gui import _errors, _play_until, _run_page, _severe, _wait, driver  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "examples" / "gui_pong.py"
SHOTS = Path("/tmp/pong_shots")
EDGE = pong_app.PADDLE_RANGE  # the slider's end: the paddle's bar at a wall

#: The page's state: simulated time, the drawn ball and paddle, the score, the paddle slider.
JS_GAME = """
var q = s => document.querySelector(s), ball = q('.pong-ball'), paddle = q('.pong-paddle'), score = q('.pong-score');
var sl = Nengo.Component.components.find(c => c instanceof Nengo.Slider && c.label.textContent == 'paddle (slider)');
return {t: sim.time, ball: ball ? [+ball.dataset.x, +ball.dataset.y] : null, paddle: paddle ? +paddle.dataset.x : null,
        catches: score ? +score.dataset.catches : null, misses: score ? +score.dataset.misses : null,
        slider: sl ? [sl.sliders[0].value, sl.sliders[0].min, sl.sliders[0].max] : null,
        keys: window.nplPong ? window.nplPong.moved : null,
        views: Nengo.Component.components.map(c => c.label.textContent)}"""


def _game(browser) -> dict:
    return browser.execute_script(JS_GAME)


def _hold(browser, key, seconds: float) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(browser).key_down(key).pause(seconds).key_up(key).perform()


def _run_to(browser, until: float) -> dict:
    """Press play, run to ``until`` simulated seconds, pause; the game's state."""
    _play_until(browser, until)
    time.sleep(0.2)  # the last drawing
    return _game(browser)


@pytest.mark.gui
def test_pong_is_playable_with_the_keyboard(driver, monkeypatch):  # noqa: F811
    """The arena is drawn in the walls' frame, the ball moves, the arrow keys move the slider and
    the drawn paddle (never past the walls), and a paddle away from the ball misses: the miss
    counter counts, the catch counter does not."""
    from selenium.webdriver.common.keys import Keys

    monkeypatch.delenv(gui.ROUTE_ENV, raising=False)
    monkeypatch.delenv(gui.NEURONS_ENV, raising=False)
    SHOTS.mkdir(parents=True, exist_ok=True)
    _severe(driver)  # drain
    with gui.start(SCRIPT) as server:
        _run_page(driver, server, 0.1)
        first = _game(driver)
        assert _errors(driver) == "" and server.page_errors == []
        assert {"arena", "paddle (slider)", "ball", "ball_x", "ball_y"} <= set(first["views"]), first["views"]
        assert first["slider"] == [0, -EDGE, EDGE]  # the bar spans the arena exactly
        assert first["paddle"] == 0 and first["catches"] == 0, first
        driver.find_element("css selector", "body").click()  # the page has the keyboard
        _hold(driver, Keys.ARROW_LEFT, 0.15)  # 0.2 units/s: 0.03 to the left (a busy browser: less or more)
        moved = _game(driver)["slider"][0]
        assert -EDGE <= moved < -0.005, moved
        _hold(driver, Keys.ARROW_LEFT, 0.6)  # past the left wall: stopped there
        # the first ball comes down at x = 0.045 at 0.9 s: a paddle at the left wall (or at 0, if the
        # page ran past 0.9 s before it paused) misses it
        left = _run_to(driver, 2.0)
        assert left["keys"] > 0 and left["slider"][0] == pytest.approx(-EDGE), left
        assert left["paddle"] == pytest.approx(-EDGE, abs=1e-3)  # the network's paddle, drawn
        assert left["misses"] >= 1 and left["catches"] == 0, left  # 2 if the pause came after 4.1 s
        assert left["ball"] != first["ball"]  # the ball moves
        _hold(driver, Keys.ARROW_RIGHT, 0.6)
        right = _run_to(driver, left["t"] + 0.2)
        driver.save_screenshot(str(SHOTS / "pong.png"))
        driver.get("about:blank")
    assert right["slider"][0] == pytest.approx(EDGE) and right["paddle"] == pytest.approx(EDGE, abs=1e-3)
    assert right["ball"] != left["ball"]
    for x, y in (first["ball"], left["ball"], right["ball"]):  # drawn inside the walls
        assert abs(x) <= WALL and -0.065 <= y <= WALL
    assert _severe(driver) == []


@pytest.mark.gui
def test_plain_launcher_layout_shows_everything(driver, tmp_path, monkeypatch):  # noqa: F811
    """With nengo_gui's own layout file (examples/gui_pong.py.cfg, what ``nengo examples/gui_pong.py``
    reads) the slider, both value plots, the XY plot and the arena are on screen."""
    import shutil

    monkeypatch.delenv(gui.ROUTE_ENV, raising=False)
    for name in (SCRIPT, SCRIPT.with_name(SCRIPT.name + ".cfg")):  # a copy: nengo_gui saves layout edits
        shutil.copy(name, tmp_path)
    js = """return Nengo.Component.components.map(c => {var r = c.div.getBoundingClientRect();
        return [c.label.textContent, r.left >= 0 && r.top >= 0 && r.right <= innerWidth && r.bottom <= innerHeight
                && r.width > 50]})"""
    with gui.start(tmp_path / SCRIPT.name, generate_layout=False) as server:
        _run_page(driver, server, 0.1)
        shown = dict(driver.execute_script(js))
        assert _errors(driver) == "" and server.page_errors == []
        driver.get("about:blank")
    for label in ("paddle (slider)", "ball_x", "ball_y", "ball", "arena"):
        assert shown.get(label), (label, shown)


# -- without a browser ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def rnn():
    return pong_app.compiled()


def _play(rnn, player: str, duration: float) -> tuple[int, int]:
    """(catches, misses) counted by the arena Node; ``player`` "under": the paddle under the ball."""
    net = pong_app.nengo_model(rnn, paddle="slider", seed=0)
    arena = pong_app.add_arena_view(net)
    if player == "under":  # the paddle the gate sees is the ball's x, clamped to the walls
        gate = net.gate.output
        net.gate.output = lambda t, x: gate(t, np.array([np.clip(x[1], -WALL, WALL), x[1]]))
    else:
        net.paddle.output = float(player)
    with nengo.Simulator(net, progress_bar=False, seed=0) as sim:
        sim.run(duration)
    return arena.output.catches, arena.output.misses


def test_a_paddle_under_the_ball_catches_and_one_away_misses(rnn):
    """The program's catching disc is nearly as wide as the arena; the slider paddle's gate makes
    only the drawn bar catch: a paddle left at 0 misses the balls it caught before (at 0.9 s, x = 0.044)."""
    assert _play(rnn, "under", 3.5) == (2, 0)  # caught at 0.6 s and 3.2 s
    assert _play(rnn, "0.0", 3.5) == (0, 1)  # the floor is lower: its bounces come later


def test_arena_drawing_clamps_ball_and_paddle_to_the_walls():
    svg = pong_app.arena_svg(0.09, -0.1, 0.08, catches=3, misses=1)
    # the ball's edge touches the wall and the floor, the bar's end the wall
    assert 'class="pong-ball" data-x="0.0460" data-y="-0.0610"' in svg
    assert 'cx="202.0" cy="232.0" r="8.0"' in svg  # 2000 px a unit, 0.005 of margin round the walls
    assert 'x2="210.0"' in svg and 'data-x="0.0350"/>' in svg and 'data-catches="3" data-misses="1"' in svg
    assert "onerror" not in svg and "onerror" in pong_app.arena_svg(0, 0, 0, keys=True)
    assert 'cx="110.0"' in pong_app.arena_svg(float("nan"), 0.0, 0.0)  # never non-finite


def test_gui_options_are_honoured_or_refused(monkeypatch):
    for name in (gui.ROUTE_ENV, gui.NEURONS_ENV, gui.N_NEURONS_ENV):
        monkeypatch.delenv(name, raising=False)
    assert pong_app.gui_options() == {"n_neurons": 1360, "neurons": "rate"}
    monkeypatch.setenv(gui.N_NEURONS_ENV, "1400")
    monkeypatch.setenv(gui.NEURONS_ENV, "rate")
    assert pong_app.gui_options() == {"n_neurons": 1400, "neurons": "rate"}
    monkeypatch.setenv(gui.NEURONS_ENV, "poisson")
    with pytest.raises(ValidationError, match="pong: neurons 'poisson'.*rate units only"):
        pong_app.gui_options()
    monkeypatch.setenv(gui.NEURONS_ENV, "rate")
    monkeypatch.setenv(gui.N_NEURONS_ENV, "many")
    with pytest.raises(ValidationError, match="NPL_NENGO_N_NEURONS='many'"):
        pong_app.gui_options()
    monkeypatch.delenv(gui.N_NEURONS_ENV)
    monkeypatch.setenv(gui.ROUTE_ENV, "nef")  # the script refuses it with the same message
    with pytest.raises(ValidationError, match="pong: route 'nef'.*route 'neuron' only"):
        runpy.run_path(str(SCRIPT))


def test_gui_command_refuses_options_pong_cannot_honour(capsys):
    from npl_nengo.cli import main

    assert main(["gui", "pong", "--route", "nef", "--n-neurons", "50", "--no-browser"]) == 2
    assert "pong: route 'nef'" in capsys.readouterr().err
