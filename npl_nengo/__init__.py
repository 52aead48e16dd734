"""npl_nengo: programmed recurrent neural networks on spiking simulators.

Write a :class:`Program` (or wire programs into a :class:`Circuit`), compile it
with :func:`compile` into a :class:`ProgrammedRNN`, and :func:`run` it on a
backend with rate or spiking neurons; :func:`compare` runs it on every backend
into a :class:`Report`, :func:`sweep` scores it over a parameter grid on dask.
"""

from ._version import __version__

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
from . import programs

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
    """``to_nengo`` and ``to_brian2`` live with their backends; imported on first use, so
    ``import npl_nengo`` imports neither nengo's builder nor Brian2."""
    if name == "to_nengo":
        from .backends.nengo import to_nengo

        return to_nengo
    if name == "to_brian2":
        from .backends.brian2 import to_brian2

        return to_brian2
    raise AttributeError(f"module 'npl_nengo' has no attribute {name!r}")
