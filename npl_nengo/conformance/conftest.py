"""Fixtures of the conformance suite (loaded only when its tests are collected)."""

from __future__ import annotations

from typing import Any, Callable

import pytest

from .plugin import simulator_of


@pytest.fixture(scope="session")
def simulator(request: pytest.FixtureRequest) -> Any:
    """The simulator under test (``--simulator``, default ``nengo``)."""
    return simulator_of(request.config)


def library_networks() -> Callable[[str, str], Any]:
    """``get(entry, route) -> (Target, method, network)``: a library entry's network for a route
    (``"recommended"``: its recommended compile; ``"lif"``: its LIF route; ``"taylor"``: the paper's
    min-norm weights), compiled once with seed 0 and kept."""
    from ..cells import Target

    cache: dict[tuple[str, str], Any] = {}

    def get(name: str, route: str) -> Any:
        if (name, route) not in cache:
            target = Target.of(name)
            method = (target.recommended_method or "sampled") if route == "recommended" else route
            cache[name, route] = (target, method, target.build(method, 0))
        return cache[name, route]

    return get


@pytest.fixture(scope="session")
def compiled() -> Callable[[str, str], Any]:
    """:func:`library_networks`, shared by the session's tests."""
    return library_networks()
