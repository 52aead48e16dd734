"""The README's setup, test and main-job commands are exactly what CI runs."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# CI's own step after the README's three commands: the documentation build (the README shows it too).
DOCS_BUILD = ".venv/bin/python -m sphinx -W --keep-going -b html docs docs/_build/html"
# ... and the conformance suite's quick subset, as a user runs it (the README shows it too).
CONFORMANCE = ".venv/bin/python -m pytest -p no:nengo --pyargs npl_nengo.conformance -q"


def _ci_lines() -> list[str]:
    return [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line.strip()]


def test_readme_commands_are_the_ci_commands():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- commands -->\s*```bash\n(.*?)```", readme, re.S)
    assert block, "README needs a ```bash block after <!-- commands -->"
    readme_cmds = [line for line in block.group(1).splitlines() if line.strip() and not line.startswith("#")]
    # CI's own preamble: shell options, the system browser for the GUI test (README: "CI"), and its
    # own last step, the documentation build.
    preamble = ("#", "set ", "cd ", "export CI=", "apt-get ")
    ci_cmds = [line for line in _ci_lines() if not line.startswith(preamble) and line not in (DOCS_BUILD, CONFORMANCE)]
    assert readme_cmds == ci_cmds
    assert len(readme_cmds) == 3
    assert "apt-get install -y -qq chromium chromium-driver" in readme  # the README names CI's extra step


def test_ci_builds_the_docs_after_the_tests():
    ci = _ci_lines()
    assert DOCS_BUILD in ci
    assert ci.index(DOCS_BUILD) > ci.index(".venv/bin/python -m pytest")
    assert DOCS_BUILD in (ROOT / "README.md").read_text()  # the README shows the same command


def test_ci_runs_the_conformance_quick_subset_as_the_readme_shows():
    assert CONFORMANCE in _ci_lines()
    assert CONFORMANCE in (ROOT / "README.md").read_text()


def test_readme_is_short():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 250
