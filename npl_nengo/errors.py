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
    "SaveError",
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


class SaveError(ValidationError, OSError):
    """A file or directory could not be written, or may not be: the message names the path and why.

    A :class:`ValidationError` (the path given is unusable: it exists, it is a directory, its
    directory is missing or read-only, another process is writing there) and an :class:`OSError`
    (``errno`` is the operating system's, where there is one), so ``except NplError``,
    ``except ValueError`` and ``except OSError`` all catch it.
    """
