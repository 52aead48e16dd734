"""npl_nengo: programmed recurrent neural networks on spiking simulators.

Write a :class:`Program` (or wire programs into a :class:`Circuit`), compile it
with :func:`compile` into a :class:`ProgrammedRNN`, and :func:`run` it on a
backend with rate or spiking neurons; :func:`compare` runs it on every backend
into a :class:`Report`, :func:`sweep` scores it over a parameter grid on dask.
"""

import sys
import types
from typing import TYPE_CHECKING

from ._version import __version__

#: Public name -> the module that holds it, imported on first use (PEP 562): ``import npl_nengo``
#: itself imports nothing heavy (sympy, scipy, nengo), so the pytest plugin of the conformance suite,
#: which every pytest session loads, costs nothing where it is not used.
_LAZY = {
    **dict.fromkeys(["BackendUnavailable", "CompileError", "FormatError", "NplError", "SaveError", "SimulationError",
                     "ValidationError"], ".errors"),
    "Circuit": ".program", "Program": ".program", "ProgrammedRNN": ".rnn", "load": ".rnn", "compile": ".compiler",
    "MachineCode": ".decompile", "decompile": ".decompile", "protocol": ".inputs", "Result": ".result",
    "run": ".simulation", "NEFNetwork": ".nef", "nef": ".nef", "RateReference": ".rate_reference",
    "rate_reference": ".rate_reference", "Report": ".report", "compare": ".comparison", "SweepResult": ".sweeps",
    "sweep": ".sweeps", "from_nir": ".nir_export", "to_nir": ".nir_export",
    # these two live with their backends: their first use imports nengo's builder or Brian2
    "to_nengo": ".backends.nengo", "to_brian2": ".backends.brian2",
}

if TYPE_CHECKING:  # what the names are, for type checkers and readers
    from . import programs
    from .backends.brian2 import to_brian2
    from .backends.nengo import to_nengo
    from .errors import BackendUnavailable, CompileError, FormatError, NplError, SaveError, SimulationError, ValidationError
    from .program import Circuit, Program
    from .rnn import ProgrammedRNN, load
    from .compiler import compile  # noqa: A004
    from .decompile import MachineCode, decompile
    from .inputs import protocol
    from .result import Result
    from .simulation import run
    from .nef import NEFNetwork, nef
    from .rate_reference import RateReference, rate_reference
    from .report import Report
    from .comparison import compare
    from .sweeps import SweepResult, sweep
    from .nir_export import from_nir, to_nir

__all__ = [
    "__version__",
    "Program",
    "Circuit",
    "compile",
    "ProgrammedRNN",
    "load",
    "run",
    "to_nengo",
    "to_brian2",
    "rate_reference",
    "RateReference",
    "compare",
    "Report",
    "sweep",
    "SweepResult",
    "nef",
    "NEFNetwork",
    "Result",
    "protocol",
    "programs",
    "decompile",
    "to_nir",
    "from_nir",
    "MachineCode",
    "NplError",
    "ValidationError",
    "CompileError",
    "FormatError",
    "BackendUnavailable",
    "SimulationError",
    "SaveError",
]


def __getattr__(name: str):
    import importlib

    if name == "programs":
        return importlib.import_module(".programs", __name__)
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'npl_nengo' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Package(types.ModuleType):
    """The package keeps ``npl_nengo.nef`` and ``npl_nengo.decompile`` the functions: importing the
    submodules of the same names would otherwise bind the modules there (they stay in ``sys.modules``)."""

    def __setattr__(self, name: str, value: object) -> None:
        if name in ("nef", "decompile") and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
