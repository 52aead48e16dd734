"""The simulator under test: what ``--simulator`` names, and how the suite runs a network on it.

Three kinds of simulator, one way to run them (:meth:`SimulatorUnderTest.run`, the signature of
:func:`npl_nengo.run`):

* a registered backend by name (``nengo``, ``nengo_dl``, ``brian2``, ``reference``, ``nest``,
  ``loihi_emulator``): that backend as :func:`npl_nengo.run` runs it;
* a Brian2 device or code-generation target, ``brian2:numpy``, ``brian2:cython`` or
  ``brian2:cpp_standalone``: the Brian2 backend with ``target=`` set;
* any ``nengo.Simulator``-compatible class by import path (``nengo_dl.Simulator``,
  ``nengo_loihi.Simulator``, ``mypackage.Simulator``): the Nengo backend's network (the same
  ``nengo.Network`` the ``nengo`` backend builds) simulated by that class, constructed as
  ``cls(network, dt=dt, seed=seed, progress_bar=False, **options)``, its outputs read from Nodes
  (``probe="node"``: what every such simulator can probe).

Options (``--sim-option key=value``) are the backend's run options for the first two kinds and the
class's constructor arguments for the third.  A value is read as JSON (``dtype=float64`` is the
string, ``record=1`` the number), never evaluated as code.
"""

from __future__ import annotations

import functools
import importlib
import json
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from ..errors import BackendUnavailable, ValidationError
from ..registry import BACKENDS, LIF_ONLY, backend_info

__all__ = ["SimulatorUnderTest", "simulator_under_test", "parse_options", "BRIAN2_TARGETS"]

#: Brian2's devices / code-generation targets (the Brian2 backend's ``target`` option).
BRIAN2_TARGETS = ("numpy", "cython", "cpp_standalone")


@dataclass(frozen=True)
class SimulatorUnderTest:
    """A simulator the conformance suite runs networks on.

    Attributes
    ----------
    spec
        What ``--simulator`` said (``"nengo_dl.Simulator"``, ``"brian2:cython"``, ``"nest"``).
    backend
        The registered backend that runs it (``"nengo"`` for a simulator class).
    options
        Run options every run gets (a simulator class: ``simulator=`` and ``backend_name=``).
    neurons
        The neuron modes it runs (``None``: not declared; a simulator class is tried on every mode).
    activations
        The unit types it runs: ``("tanh", "lif")``, or ``("lif",)`` for a LIF-only backend.
    """

    spec: str
    backend: str
    options: Mapping[str, Any] = field(default_factory=dict)
    neurons: tuple[str, ...] | None = None
    activations: tuple[str, ...] = ("tanh", "lif")

    #: The options ``--sim-option`` gave (part of :attr:`label`).
    given: Mapping[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """The spec and the options given: ``nengo_dl[dtype=float64]`` (known deviations match it)."""
        if not self.given:
            return self.spec
        return f"{self.spec}[{','.join(f'{k}={v}' for k, v in self.given.items())}]"

    def runs(self, neurons: str, activation: str = "tanh") -> str | None:
        """``None`` if it runs ``neurons`` units of ``activation``; else why not (a skip reason)."""
        if activation not in self.activations:
            return f"{self.spec} runs {' and '.join(self.activations)} units only, not {activation}"
        if self.neurons is not None and neurons not in self.neurons:
            return f"{self.spec} has no neurons={neurons!r} mode (it runs {', '.join(self.neurons)})"
        return None

    def run(self, network: Any, inputs: Any = None, duration: float = 1.0, neurons: str = "rate", dt: float = 1e-3,
            seed: int = 0, **options: Any):
        """:func:`npl_nengo.run` on this simulator (``options`` after the simulator's own)."""
        from ..simulation import run

        return run(network, inputs, duration, backend=self.backend, neurons=neurons, dt=dt, seed=seed,
                   **{**self.options, **options})


def parse_options(items: Sequence[str], where: str = "--sim-option") -> dict[str, Any]:
    """``["key=value", ...]`` as a dict; each value JSON if it parses as JSON, else the text itself."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, text = str(item).partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise ValidationError(f"{where}: {item!r} is not key=value (e.g. dtype=float64)")
        try:
            out[key] = json.loads(text)
        except ValueError:
            out[key] = text
    return out


def simulator_under_test(spec: str, options: Mapping[str, Any] | None = None) -> SimulatorUnderTest:
    """The simulator ``spec`` names (see the module docstring), with ``options``.

    Raises :class:`ValidationError` for a spec that names nothing runnable and
    :class:`BackendUnavailable` for one whose package is not installed.
    """
    options = dict(options or {})
    given = dict(options)
    spec = str(spec).strip()
    if spec in BACKENDS:
        info = backend_info(spec)
        info.check_options(options, where=f"--simulator {spec}")
        activations = ("lif",) if spec in LIF_ONLY else ("tanh", "lif")
        return SimulatorUnderTest(spec, spec, options, tuple(info.neurons), activations, given)
    if spec.startswith("brian2:"):
        target = spec.split(":", 1)[1]
        if target not in BRIAN2_TARGETS:
            raise ValidationError(f"--simulator {spec}: Brian2 target {target!r} is not one of {', '.join(BRIAN2_TARGETS)}")
        info = backend_info("brian2")
        options = info.check_options({**options, "target": target}, where=f"--simulator {spec}")
        return SimulatorUnderTest(spec, "brian2", options, tuple(info.neurons), given=given)
    cls = load_class(spec)
    info = backend_info("nengo")
    run_with = functools.partial(cls, **options) if options else cls
    return SimulatorUnderTest(spec, "nengo", {"simulator": run_with, "backend_name": spec, "probe": "node"},
                              tuple(info.neurons), given=given)


def load_class(path: str) -> type:
    """The class at import path ``path`` (``package.module.Class``), imported, never evaluated."""
    module_name, _, name = path.rpartition(".")
    if not module_name or not all(part.isidentifier() for part in path.split(".")):
        raise ValidationError(f"--simulator {path!r}: expected a registered backend ({', '.join(BACKENDS)}), "
                              f"brian2:<{'|'.join(BRIAN2_TARGETS)}> or a simulator class by import path "
                              f"(e.g. nengo_dl.Simulator)")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise BackendUnavailable(f"--simulator {path}: cannot import {module_name!r} ({exc})") from exc
    cls = getattr(module, name, None)
    if not callable(cls):
        raise ValidationError(f"--simulator {path}: {module_name!r} has no simulator class {name!r}")
    return cls
