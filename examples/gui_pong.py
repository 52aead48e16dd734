"""Pong on a programmed reservoir, in nengo_gui: move the paddle with the slider.

    .venv/bin/python -m npl_nengo.gui examples/gui_pong.py

The game is the 14-variable pong program (``npl_nengo.networks.pong``, docs/method.md
§4.5) compiled with the taylor method into 1360 tanh rate units and run by
``nengo.Simulator`` at dt = 1 ms.  The page shows

* ``paddle (slider)``: the paddle's x (the program's only input), in [-0.1, 0.1];
* ``arena``: an SVG drawing of the game (nengo_gui's HTML view of a Node whose
  function sets ``_nengo_html_``): the walls (dashed), the floor (brown), the
  paddle and its catching disc (blue), the ball (red);
* ``ball``: an XY plot of the ball (x, y), and value plots of ``ball_x`` and ``ball_y``.

A ball the paddle misses bounces off the floor (a miss).  Simulated 10 s take
about 4.4 s on one core, so the page keeps up with real time.
"""

import nengo

from npl_nengo import pong_app

try:  # nengo_gui's views of the arena; without nengo_gui the script still defines `model`
    from nengo_gui.components import HTMLView, XYValue
except ImportError:  # pragma: no cover
    HTMLView = XYValue = None


def _placed(kind, obj, **place):
    """A nengo_gui component of ``kind`` for ``obj`` that starts at ``place`` (x, y, width, height).

    nengo_gui shows every component it finds in the script's namespace; its
    position comes from the layout file, which knows only sliders and value
    plots, so this one fills in its own until the user moves it.
    """

    class Placed(kind):
        def attach(self, page, config, uid):
            for key, value in place.items():
                if getattr(config, key) == kind.config_defaults[key]:
                    setattr(config, key, value)
            super().attach(page, config, uid)

        if kind is HTMLView:
            def gather_data(self, t, *x):
                # nengo_gui sends the HTML every step (1000 messages/s); send a drawing once
                value = self.obj_output(t, *x)
                html = self.obj_output._nengo_html_
                if html is not getattr(self, "_sent", None):
                    self._sent = html
                    self.data.append("%g %s" % (t, html))
                return value

    Placed.__name__ = kind.__name__  # a saved layout re-creates nengo_gui's own class
    return Placed(obj)


rnn = pong_app.compiled()  # cached: nengo_gui runs this script more than once
model = pong_app.nengo_model(rnn, paddle="slider", label="pong")
arena = pong_app.add_arena_view(model)
with model:
    ball = nengo.Node(size_in=2, label="ball")
    nengo.Connection(model.outputs["ball_x"], ball[0], synapse=None)
    nengo.Connection(model.outputs["ball_y"], ball[1], synapse=None)
# value plots (npl_nengo.gui.layout draws one per model.outputs entry): the ball only
model.outputs = {name: model.outputs[name] for name in ("ball_x", "ball_y")}

if HTMLView is not None:
    _viz_pong_arena = _placed(HTMLView, arena, x=0.5, y=1.3, width=0.25, height=0.25)
    _viz_pong_ball = _placed(XYValue, ball, x=1.27, y=1.0, width=0.2, height=0.25,
                             min_value=-0.12, max_value=0.12)
