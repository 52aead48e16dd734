"""The README's setup, test and main-job commands are exactly what CI runs."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_commands_are_the_ci_commands():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- commands -->\s*```bash\n(.*?)```", readme, re.S)
    assert block, "README needs a ```bash block after <!-- commands -->"
    readme_cmds = [line for line in block.group(1).splitlines() if line.strip() and not line.startswith("#")]
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    # CI's own preamble: shell options, the system browser for the GUI test (README: "GUI test").
    preamble = ("#", "set ", "cd ", "export CI=", "apt-get ")
    ci_cmds = [line for line in ci if line.strip() and not line.startswith(preamble)]
    assert readme_cmds == ci_cmds
    assert len(readme_cmds) == 3
    assert "apt-get install -y -qq chromium chromium-driver" in readme  # the README names CI's extra step
