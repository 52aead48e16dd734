"""The documentation stands alone: every relative link in the Markdown pages resolves, on GitHub and in
the Sphinx site, and no page points outside the repository.  (The site itself is built by CI's last step,
``sphinx -W``; this is the fast check.)"""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted([ROOT / "README.md", ROOT / "examples" / "README.md", *(ROOT / "docs").rglob("*.md")])
PAGES = [p for p in PAGES if not {"_build", "_generated"} & set(p.relative_to(ROOT).parts)]
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)


def _slug(heading: str) -> str:
    """GitHub's (and myst-parser's) anchor for a heading."""
    text = re.sub(r"`|\*\*|\*", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    if path.suffix == ".ipynb":
        text = "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "markdown")
    else:
        text = FENCE.sub("", path.read_text())
    return {_slug(m.group(2)) for m in re.finditer(r"^(#{1,6})\s+(.*)$", text, re.M)}


def _links(path: Path) -> list[str]:
    return LINK.findall(FENCE.sub("", path.read_text()))


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve_inside_the_repository(page):
    for target in _links(page):
        if re.match(r"[a-z]+:", target):
            continue  # https:, mailto:
        file, _, anchor = target.partition("#")
        dest = (page.parent / file).resolve() if file else page
        assert dest.exists(), f"{page.relative_to(ROOT)}: link to missing {target}"
        assert dest.is_relative_to(ROOT), f"{page.relative_to(ROOT)}: link outside the repository: {target}"
        if anchor and dest.suffix in (".md", ".ipynb"):
            assert anchor in _anchors(dest), f"{page.relative_to(ROOT)}: no heading for #{anchor} in {file or 'itself'}"


def test_the_sphinx_site_has_every_page():
    index = (ROOT / "docs" / "index.md").read_text()
    toctree = {line.strip() for block in re.findall(r"```\{toctree\}(.*?)```", index, re.S)
               for line in block.splitlines() if line.strip() and not line.strip().startswith(":")}
    docs = {str(p.relative_to(ROOT / "docs").with_suffix("")) for p in PAGES if p.is_relative_to(ROOT / "docs")}
    docs |= {"tutorial", "api/index", "_generated/benchmark-data"}
    assert docs - {"index"} == toctree


def test_no_page_names_issues_or_files_outside_the_repository():
    for page in [*PAGES, ROOT / "docs" / "tutorial.ipynb"]:
        text = page.read_text()
        for bad in (r"\bissue\s*#?\d", r"(?<![\w/])#\d+\b", r"\.\./shared", r"REFERENCE\.md", r"DESIGN\.md"):
            assert not re.search(bad, text, re.I), f"{page.relative_to(ROOT)} matches {bad}"


def test_examples_readme_indexes_every_example():
    index = (ROOT / "examples" / "README.md").read_text()
    for script in sorted((ROOT / "examples").glob("*.py")):
        entry = script.stem.removeprefix("gui_")
        named = f"`{script.name}`" in index or (script.stem.startswith("gui_") and f"`{entry}`" in index)
        assert named, f"examples/README.md does not list {script.name}"
