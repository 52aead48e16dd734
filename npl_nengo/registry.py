"""The backend registry: which simulators npl_nengo runs on and what each declares.

A backend is one module (in ``backends/``, installed as ``npl_nengo.backends``)
that satisfies :class:`Backend`, plus one line in :data:`BACKENDS`.  Everything
that needs to know about backends (:func:`npl_nengo.run`,
:func:`npl_nengo.compare`, :func:`npl_nengo.sweep`, the command line and the
shared test suite) reads it here, through :func:`backend_info`.

A backend's run options are the keyword parameters of its ``run`` beyond the
common ones; their annotations are the declaration (``Literal[...]`` for a
choice), so an unknown or ill-typed option is refused before a simulator is
built.  Backends are imported only when asked for: ``import npl_nengo`` never
imports TensorFlow or Brian2.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import types
import typing
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Literal, Mapping, Protocol, Union

import numpy as np

from .errors import BackendUnavailable, ValidationError
from .result import Result

__all__ = ["BACKENDS", "DEFAULT_BACKENDS", "LIF_ONLY", "installed", "Backend", "BackendInfo", "Option", "backend_info", "backend_options", "get_backend",
           "COMMON_PARAMETERS"]

#: Backend name -> module.  Adding a backend: its module, and one line here.
BACKENDS: dict[str, str] = {
    "reference": "npl_nengo.backends.reference",
    "nengo": "npl_nengo.backends.nengo",
    "nengo_dl": "npl_nengo.backends.nengo_dl",
    "brian2": "npl_nengo.backends.brian2",
    "nest": "npl_nengo.backends.nest",
    "loihi_emulator": "npl_nengo.backends.loihi_emulator",
}

#: Backends that run only networks compiled with ``activation="lif"`` (their modules declare
#: ``ACTIVATIONS = ("lif",)``; ``tests/test_backends.py`` checks the two agree).  Known without
#: importing them, so the shared tanh test suites can leave them out cheaply.
LIF_ONLY = frozenset({"nest", "loihi_emulator"})

#: Backends that are optional extras: their modules import these packages (found without importing them).
EXTRAS = {"nest": ("pyNN", "nest"), "loihi_emulator": ("nengo_loihi",)}
#: Registered backends a comparison leaves out unless named: the Loihi emulator (4-6x nengo's time per
#: run, imports TensorFlow, and its LIF route loses the levels; ``docs/guide/targets.md``).
NOT_BY_DEFAULT = frozenset({"loihi_emulator"})


def installed(name: str) -> bool:
    """Whether backend ``name``'s simulator packages are installed (looked up, not imported)."""
    import importlib.util

    return all(importlib.util.find_spec(package) is not None for package in EXTRAS.get(name, ()))


#: The backends a comparison runs on unless told otherwise: every registered one but the Loihi
#: emulator, the optional extras (nest: PyNN and NEST) only where installed.
DEFAULT_BACKENDS = tuple(name for name in BACKENDS if name not in NOT_BY_DEFAULT and installed(name))


#: Parameters every backend's ``run`` takes (:func:`npl_nengo.run` passes them itself).
COMMON_PARAMETERS = ("rnn", "inputs", "duration", "neurons", "dt", "seed")


class Backend(Protocol):
    """What a backend module provides.

    ``NAME`` and ``NEURONS`` (the neuron modes it runs) are required;
    ``BATCHES = True`` says it runs a list of trials at once (otherwise
    :func:`npl_nengo.run` runs them one by one) and ``NEF = True`` that it runs
    :class:`~npl_nengo.nef.NEFNetwork` descriptions as well.
    """

    NAME: str
    NEURONS: tuple[str, ...]

    def run(self, rnn: Any, inputs: Any, duration: float, neurons: str = "rate", dt: float = 1e-3,
            seed: int = 0, **options: Any) -> Result: ...


@dataclass(frozen=True)
class Option:
    """One declared run option of a backend: its name, type and default."""

    name: str
    type: Any
    default: Any

    def accepts(self, value: Any) -> bool:
        """Whether ``value`` has the declared type (numpy numbers count as numbers)."""
        return _accepts(self.type, value)

    def describe(self) -> str:
        """The declared type in words, e.g. ``'zoh' or 'euler'``."""
        return _describe(self.type)


@dataclass(frozen=True)
class BackendInfo:
    """A registered backend as :func:`backend_info` reads it from its module."""

    name: str
    module: ModuleType
    neurons: tuple[str, ...]
    options: Mapping[str, Option]
    batches: bool
    nef: bool

    def check_neurons(self, neurons: str, where: str = "run") -> None:
        """Raise :class:`ValidationError` unless this backend runs neuron mode ``neurons``."""
        if neurons not in self.neurons:
            raise ValidationError(f"{where}: backend {self.name!r} does not support neurons={neurons!r} "
                                  f"(supported: {', '.join(self.neurons)})")

    def check_options(self, options: Mapping[str, Any], where: str = "run") -> dict[str, Any]:
        """The options with numpy scalars as Python numbers; a :class:`ValidationError` names the first
        unknown or ill-typed one."""
        out = {}
        for key, value in options.items():
            option = self.options.get(key)
            if option is None:
                raise ValidationError(f"{where}: backend {self.name!r} has no option {key!r} "
                                      f"(its options: {', '.join(self.options)})")
            if not option.accepts(value):
                raise ValidationError(f"{where}: backend {self.name!r} option {key}={value!r} is not valid "
                                      f"(expected {option.describe()})")
            out[key] = value.item() if isinstance(value, np.generic) else value
        return out


def get_backend(name: str) -> ModuleType:
    """Import and return a backend module by name.

    Raises :class:`ValidationError` for a name not in :data:`BACKENDS` and
    :class:`BackendUnavailable` when its simulator is not installed.
    """
    if not isinstance(name, str) or name not in BACKENDS:
        raise ValidationError(f"backend {name!r} is not known (known: {', '.join(BACKENDS)})")
    try:
        return importlib.import_module(BACKENDS[name])
    except ImportError as exc:
        if isinstance(exc, BackendUnavailable):
            raise
        raise BackendUnavailable(f"backend {name!r} cannot be imported: {exc}") from exc


@functools.cache
def backend_info(name: str) -> BackendInfo:
    """What backend ``name`` declares: neuron modes, run options, batching, NEF support (imports it)."""
    module = get_backend(name)
    missing = [a for a in ("NAME", "NEURONS", "run") if not hasattr(module, a)]
    if missing:
        raise BackendUnavailable(f"backend {name!r} ({module.__name__}) lacks {', '.join(missing)}")
    named = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    try:  # the backend's own annotations (strings under ``from __future__ import annotations``)
        types_of = inspect.get_annotations(module.run, eval_str=True)
    except Exception as exc:  # an annotation naming what the module does not import: a broken backend
        raise BackendUnavailable(f"backend {name!r}: the annotations of its run() do not resolve ({exc})") from exc
    options = {p.name: Option(p.name, types_of.get(p.name, Any), p.default)
               for p in inspect.signature(module.run).parameters.values()
               if p.name not in COMMON_PARAMETERS and p.kind in named}
    return BackendInfo(name, module, tuple(module.NEURONS), options, bool(getattr(module, "BATCHES", False)),
                       bool(getattr(module, "NEF", False)))


def backend_options(name: str) -> tuple[str, ...]:
    """The names of the run options backend ``name`` declares."""
    return tuple(backend_info(name).options)


def nef_backends() -> tuple[str, ...]:
    """The registered backends that run NEF networks (imports those that are installed)."""
    out = []
    for name in BACKENDS:
        try:
            if backend_info(name).nef:
                out.append(name)
        except BackendUnavailable:
            continue
    return tuple(out)


# -- option types (the annotations of a backend's run) --------------------------------------------------
def _accepts(tp: Any, value: Any) -> bool:
    origin = typing.get_origin(tp)
    if tp is Any:
        return True
    if origin is Literal:
        return any(value == choice and type(value) is type(choice) for choice in typing.get_args(tp))
    if origin in (Union, types.UnionType):
        return any(_accepts(arg, value) for arg in typing.get_args(tp))
    if tp is None or tp is type(None):
        return value is None
    if tp is bool:
        return isinstance(value, (bool, np.bool_))
    if tp is int:
        return isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    if tp is float:
        return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if origin is not None:
        tp = origin
    return isinstance(value, tp) if isinstance(tp, type) else True


def _describe(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is Literal:
        return " or ".join(repr(c) for c in typing.get_args(tp))
    if origin in (Union, types.UnionType):
        return " or ".join(_describe(a) for a in typing.get_args(tp))
    if tp is None or tp is type(None):
        return "None"
    return getattr(tp, "__name__", str(tp))
