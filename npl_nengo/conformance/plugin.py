"""The pytest plugin of the conformance suite (entry point ``pytest11: npl_nengo``).

Installed with the package, so ``pytest --pyargs npl_nengo.conformance`` finds its options from
any directory.  It is off unless asked for: in a session that collects no test of
``npl_nengo.conformance`` it only adds its options (below) and changes nothing; it imports
neither numpy nor a simulator until conformance tests are collected.

Options
-------
``--simulator SPEC``
    The simulator under test (default ``nengo``): a registered backend, ``brian2:<target>``, or a
    ``nengo.Simulator``-compatible class by import path (:mod:`npl_nengo.conformance.simulators`).
``--sim-option KEY=VALUE``
    A run option of that backend, or a constructor argument of that class (repeatable).
``--conformance-full``
    Run the full set (every library network in every mode, the long probes); without it, the quick
    subset (``conformance_full`` marks the rest).
``--conformance-report PATH``
    Write the results table there as well as to the terminal: Markdown, or JSON for a path ending
    in ``.json``.

The ini option ``npl_conformance_unsupported`` lists tests a simulator is known not to pass, as
pairs of lines like nengo's ``nengo_test_unsupported`` (a pattern matched against the test's node
id, then the reason in quotes); they run as expected failures (``xfail``) with that reason.
Known deviations of the simulators this project has measured are built in
(:mod:`npl_nengo.conformance.expected`).
"""

from __future__ import annotations

import json
import shlex
from typing import Any

import pytest

PACKAGE = "npl_nengo.conformance"
#: Key of the session's simulator under test and results in ``config.stash``.
SIMULATOR = pytest.StashKey[Any]()
RESULTS = pytest.StashKey[dict]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("npl_nengo", "npl_nengo conformance suite (pytest --pyargs npl_nengo.conformance)")
    group.addoption("--simulator", default=None, metavar="SPEC",
                    help="simulator under test: a registered backend (nengo, nengo_dl, brian2, reference, nest, "
                         "loihi_emulator), brian2:<numpy|cython|cpp_standalone>, or a nengo.Simulator-compatible "
                         "class by import path (e.g. nengo_dl.Simulator); default nengo")
    group.addoption("--sim-option", action="append", default=[], metavar="KEY=VALUE",
                    help="run option of the backend, or constructor argument of the simulator class (JSON value, "
                         "e.g. dtype=float64); repeatable")
    group.addoption("--conformance-full", action="store_true", default=False,
                    help="run the full conformance set (default: the quick subset)")
    group.addoption("--conformance-report", default=None, metavar="PATH",
                    help="also write the conformance results to PATH (Markdown; JSON if PATH ends in .json)")
    parser.addini("npl_conformance_unsupported", type="linelist", default=[],
                  help="conformance tests the simulator under test is known to fail: pattern, then \"reason\"")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "conformance_full: in the full conformance set only (--conformance-full)")


def is_conformance(item: pytest.Item) -> bool:
    """Whether ``item`` is a test of the conformance suite."""
    module = getattr(item, "module", None)
    return module is not None and module.__name__.startswith(PACKAGE + ".")


def simulator_of(config: pytest.Config) -> Any:
    """The session's :class:`~npl_nengo.conformance.simulators.SimulatorUnderTest` (made once)."""
    if SIMULATOR not in config.stash:
        from ..errors import NplError
        from .simulators import parse_options, simulator_under_test

        spec = config.getoption("simulator") or "nengo"
        try:
            config.stash[SIMULATOR] = simulator_under_test(spec, parse_options(config.getoption("sim_option")))
        except NplError as exc:
            raise pytest.UsageError(f"npl_nengo conformance: {exc}") from exc
    return config.stash[SIMULATOR]


def _unsupported(config: pytest.Config) -> list[tuple[str, str]]:
    words = shlex.split(" ".join(config.getini("npl_conformance_unsupported")))
    if len(words) % 2:
        raise pytest.UsageError("npl_conformance_unsupported: expected pairs of a test pattern and a quoted reason, "
                                f"got an odd number of words ({len(words)})")
    return [(words[i], words[i + 1]) for i in range(0, len(words), 2)]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not any(is_conformance(item) for item in items):
        return
    from .expected import matching

    sim = simulator_of(config)
    config.stash[RESULTS] = {}
    if not config.getoption("conformance_full"):
        dropped = [i for i in items if is_conformance(i) and i.get_closest_marker("conformance_full")]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            keep = set(map(id, dropped))
            items[:] = [i for i in items if id(i) not in keep]
    user = _unsupported(config)
    for item in items:
        if not is_conformance(item):
            continue
        reason = matching(sim.label, item.nodeid, user)
        if reason is not None:
            item.add_marker(pytest.mark.xfail(reason=reason, strict=False))


def pytest_report_collectionfinish(config: pytest.Config, start_path: Any, items: list[pytest.Item]) -> list[str]:
    if RESULTS not in config.stash:
        return []
    sim = config.stash[SIMULATOR]
    subset = "full set" if config.getoption("conformance_full") else "quick subset (--conformance-full: all)"
    return [f"npl_nengo conformance: simulator {sim.label} (backend {sim.backend}), {subset}"]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    results = getattr(report, "_npl_results", None)
    if results is None:
        return
    outcome, detail = _outcome(report)
    if outcome is not None:
        results[report.nodeid] = (outcome, detail)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any):
    outcome = yield
    if is_conformance(item) and RESULTS in item.config.stash:
        outcome.get_result()._npl_results = item.config.stash[RESULTS]


def _outcome(report: pytest.TestReport) -> tuple[str | None, str]:
    """``(outcome, detail)`` of a phase's report, ``(None, "")`` for a passing setup or teardown."""
    if hasattr(report, "wasxfail"):
        return ("xpassed" if report.passed else "xfailed"), str(report.wasxfail)
    if report.skipped:
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        return "skipped", reason.removeprefix("Skipped: ")
    if report.failed:
        crash = getattr(report.longrepr, "reprcrash", None)
        message = crash.message if crash is not None else str(report.longrepr)
        first = message.split("\nassert ")[0]  # the test's own message, without pytest's rewritten expression
        return ("error" if report.when != "call" else "failed"), " ".join(first.split())[:300]
    return ("passed", "") if report.when == "call" else (None, "")


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    results = config.stash.get(RESULTS, None)
    if not results:
        return
    from .report import short, table

    sim = config.stash[SIMULATOR]
    text = table(sim, results, full=config.getoption("conformance_full"))
    terminalreporter.write_sep("=", f"npl_nengo conformance: {sim.label}")
    terminalreporter.write_line(text)
    path = config.getoption("conformance_report")
    if path:
        with open(path, "w", encoding="utf-8") as f:
            if str(path).endswith(".json"):
                json.dump({"simulator": sim.label, "backend": sim.backend, "full": config.getoption("conformance_full"),
                           "results": {short(nodeid): list(v) for nodeid, v in results.items()}}, f, indent=1)
            else:
                f.write(text + "\n")
        terminalreporter.write_line(f"written to {path}")
