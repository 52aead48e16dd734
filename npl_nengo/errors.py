"""Exceptions raised by npl_nengo.

Every error the library raises derives from :class:`NplError`, and mixes in the
builtin exception a caller would expect (``ValueError`` for bad values,
``ImportError`` for a missing simulator), so both ``except NplError`` and
``except ValueError`` work.
"""

from __future__ import annotations

__all__ = [
    "NplError",
    "ValidationError",
    "CompileError",
    "FormatError",
    "BackendUnavailable",
    "SimulationError",
]


class NplError(Exception):
    """Base class of every error raised by npl_nengo."""


class ValidationError(NplError, ValueError):
    """A program, circuit, argument or input is malformed.

    The message names the object and the field that is wrong, for example
    ``Program 'nand': symbol 's3' in d(o)/dt is not declared``.
    """


class CompileError(NplError, ValueError):
    """The compiler could not produce a network that meets its own fit report."""


class FormatError(NplError, ValueError):
    """A saved network file is corrupt, truncated, foreign or of an unknown version."""


class BackendUnavailable(NplError, ImportError):
    """A backend's simulator is not installed or cannot be imported.

    The message says exactly what to install.
    """


class SimulationError(NplError, RuntimeError):
    """A simulation diverged or could not be run."""
