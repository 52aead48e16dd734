"""The linter (ruff) and the type checker (mypy), both configured in pyproject.toml, pass on the library:
npl_nengo/, backends/ and networks/ (installed as npl_nengo, npl_nengo.backends, npl_nengo.networks)."""

import importlib.util
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
#: The folders both checkers run on.
LIBRARY = ("npl_nengo", "backends", "networks")


def test_ruff_passes_on_the_library():
    ruff = shutil.which("ruff", path=str(pathlib.Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:  # the "test" extra installs it; CI must not skip
        pytest.fail("ruff is not installed: pip install -e '.[test]'")
    done = subprocess.run([ruff, "check", *LIBRARY], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-1000:]


def _installed_layout(dest: pathlib.Path) -> dict[pathlib.Path, pathlib.Path]:
    """Link the packages under ``dest`` as they are installed (pyproject's [tool.setuptools.package-dir]).

    mypy cannot follow setuptools' editable-install finder, which maps npl_nengo.backends to backends/: a
    top-level package becomes a folder of links to its entries, a subpackage from elsewhere a link to its folder.
    Returns {linked path: source folder} for the packages, for mapping mypy's paths back."""
    package_dir = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
    folders = {}
    for package in sorted(package_dir, key=lambda p: p.count(".")):  # parents first: a subpackage's link wins
        source, linked = ROOT / package_dir[package], dest.joinpath(*package.split("."))
        folders[linked] = source
        if "." not in package:
            linked.mkdir(parents=True)
            mapped = {p.rpartition(".")[2] for p in package_dir if p.rpartition(".")[0] == package}
            for entry in source.iterdir():
                if entry.name != "__pycache__" and entry.name not in mapped:
                    (linked / entry.name).symlink_to(entry)
        else:
            linked.symlink_to(source, target_is_directory=True)
    return folders


def run_mypy() -> subprocess.CompletedProcess:
    """mypy (configured in pyproject.toml) on npl_nengo/ and backends/, paths in its report relative to the repository.

    Its cache is .mypy_cache/ in the repository (mypy keeps it out of git); a cached module whose path changed
    (the links live in a new temporary folder each run) is still reused when its content hash matches."""
    with tempfile.TemporaryDirectory(prefix="npl_nengo_mypy_") as tmp:
        folders = _installed_layout(pathlib.Path(tmp))
        checked = [ROOT / folder for folder in LIBRARY]
        excluded = [linked for linked, source in folders.items()
                    if not any(source == folder or folder in source.parents for folder in checked)]
        command = [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"),
                   "--cache-dir", str(ROOT / ".mypy_cache"), "--no-error-summary", "--no-pretty",
                   "-p", "npl_nengo"]
        for linked in excluded:  # a mapped package outside LIBRARY (none today)
            command += ["--exclude", re.escape(f"/{linked.relative_to(tmp).as_posix()}/")]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600,
                              env={**os.environ, "MYPYPATH": tmp})
        for linked, source in sorted(folders.items(), key=lambda item: -len(str(item[0]))):
            done.stdout = done.stdout.replace(f"{linked}{os.sep}", f"{source.relative_to(ROOT)}{os.sep}")
    return done


def test_mypy_passes_on_the_library():
    if importlib.util.find_spec("mypy") is None:  # the "test" extra installs it; CI must not skip
        pytest.fail("mypy is not installed: pip install -e '.[test]'")
    done = run_mypy()
    if done.returncode != 0:
        errors = [line for line in done.stdout.splitlines() if ": error:" in line]
        pytest.fail(f"mypy: {len(errors)} errors (python tests/test_lint.py for the full report)\n" + "\n".join(errors)
                    if errors else done.stdout[-3000:] + done.stderr[-3000:], pytrace=False)


if __name__ == "__main__":  # python tests/test_lint.py: mypy's full report, notes included
    result = run_mypy()
    print(result.stdout + result.stderr, end="")
    sys.exit(result.returncode)
