"""Pong on a programmed reservoir, in nengo_gui: move the paddle with the arrow keys (or the slider).

    npl-nengo gui pong                       # or: .venv/bin/python -m npl_nengo.gui examples/gui_pong.py
    nengo examples/gui_pong.py               # nengo_gui's own launcher (layout: gui_pong.py.cfg)

The game is the 14-variable pong program (``npl_nengo.networks.pong``, docs/method.md
§4.5) compiled with the taylor method into 1360 tanh rate units and run by
``nengo.Simulator`` at dt = 1 ms.  The page shows

* ``arena``: the game drawn (nengo_gui's HTML view of a Node whose function sets
  ``_nengo_html_``) in the walls' frame: walls, floor (dashed), the paddle's bar and
  the ball, clamped to the walls; below it the catches and misses.  Left/Right
  arrow (or A/D) held moves the paddle; click the page first so it has the focus;
* ``paddle (slider)``: the paddle's x, spanning the arena (±0.035: the 0.03-wide bar
  from wall to wall);
* ``ball``: an XY plot of the ball (x, y), and value plots of ``ball_x`` and ``ball_y``.

Only a ball over the paddle's bar is caught (``npl_nengo.pong_app.nengo_model``: the
program sees the paddle only then); a ball the paddle misses bounces off the floor and
counts as a miss.  Simulated 10 s take about 4.4 s on one core, so the page keeps up
with real time.  ``npl-nengo gui pong`` passes a neuron count or type on to the
compile and build (``npl_nengo.pong_app.gui_options``) and refuses ``--route nef``.
"""

import nengo

from npl_nengo import gui, pong_app

try:  # nengo_gui's view of the arena; without nengo_gui the script still defines `model`
    from nengo_gui.components import HTMLView
except ImportError:  # pragma: no cover
    HTMLView = None


def _placed(kind, obj, **place):
    """A nengo_gui component of ``kind`` for ``obj`` that starts at ``place`` (x, y, width, height).

    nengo_gui shows every component it finds in the script's namespace; its
    position comes from the layout file, which npl_nengo.gui generates for
    sliders and plots only, so this one fills in its own until the user moves it.
    It sends the arena's drawing only when it changes (nengo_gui's HTML view sends
    it every step: 1000 messages/s), and a saved layout re-creates it with this
    function (``code_python``).
    """

    class Placed(kind):
        def attach(self, page, config, uid):
            for key, value in place.items():
                if getattr(config, key) == kind.config_defaults[key]:
                    setattr(config, key, value)
            super().attach(page, config, uid)

        def code_python(self, uids):
            return "_placed(%s, %s)" % (kind.__name__, uids[self.obj])

        def gather_data(self, t, *x):
            value = self.obj_output(t, *x)
            html = self.obj_output._nengo_html_
            if html is not getattr(self, "_sent", None):
                self._sent = html
                self.data.append("%g %s" % (t, html))
            return value

    Placed.__name__ = kind.__name__
    return Placed(obj)


if HTMLView is not None:  # later runs of this script: no TensorFlow import for nengo_gui's backend list
    gui._patch_nengo_gui()
options = pong_app.gui_options()  # npl-nengo gui pong --neurons ...: refused or honoured
rnn = pong_app.compiled(n_neurons=options["n_neurons"])  # cached: nengo_gui runs this script more than once
model = pong_app.nengo_model(rnn, paddle="slider", neurons=options["neurons"], label="pong")
arena = pong_app.add_arena_view(model)
with model:
    ball = nengo.Node(size_in=2, label="ball")
    nengo.Connection(model.outputs["ball_x"], ball[0], synapse=None)
    nengo.Connection(model.outputs["ball_y"], ball[1], synapse=None)
# value plots (npl_nengo.gui.layout draws one per model.outputs entry): the ball only
model.outputs = {name: model.outputs[name] for name in ("ball_x", "ball_y")}
ball_x, ball_y = model.outputs["ball_x"], model.outputs["ball_y"]  # named: gui_pong.py.cfg refers to them by name
hints = gui.layout_hints(model)
hints.ranges[model.paddle] = (-pong_app.PADDLE_RANGE, pong_app.PADDLE_RANGE)  # the bar, wall to wall
hints.ranges.update({node: (-0.1, 0.1) for node in (*model.outputs.values(), ball)})
hints.xy = [ball]

if HTMLView is not None:
    _viz_pong_arena = _placed(HTMLView, arena, x=0.5, y=1.25, width=0.3, height=0.37)
