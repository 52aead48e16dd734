"""A backend written the way a user adds one: a module, plus one line in npl_nengo.registry.BACKENDS.

It runs rate units by forward Euler through the reference backend (tests/test_backends.py).
"""

import dataclasses
from typing import Any, Literal

from npl_nengo.backends import reference

NAME = "toy"
NEURONS = ("rate",)


def run(rnn, inputs, duration: float, neurons: str = "rate", dt: float = 1e-3, seed: int = 0,
        stepper: Literal["euler"] = "euler", initial: Any = None, sample_every: int = 1):
    result = reference.run(rnn, inputs, duration, neurons=neurons, dt=dt, seed=seed, integrator=stepper,
                           initial=initial, sample_every=sample_every)
    return dataclasses.replace(result, backend=NAME)
