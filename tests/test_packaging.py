"""The wheel installs backends/ and networks/ inside the package namespace."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (whl,) = out.glob("npl_nengo-*.whl")
    return whl


def test_wheel_maps_backends_and_networks_under_npl_nengo(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "npl_nengo/backends/reference.py" in names
    assert "npl_nengo/networks/logic.py" in names
    assert "npl_nengo/experiments/trained.py" in names and "npl_nengo/registry.py" in names
    assert "npl_nengo/compiler.py" in names
    tops = {n.split("/")[0] for n in names}
    assert "backends" not in tops and "networks" not in tops
    assert not any(n.startswith("tests/") for n in names)


def test_console_script_declared(wheel):
    zf = zipfile.ZipFile(wheel)
    (ep,) = [n for n in zf.namelist() if n.endswith("entry_points.txt")]
    assert "npl-nengo = npl_nengo.cli:main" in zf.read(ep).decode()


def test_import_is_light():
    code = "import sys, npl_nengo; print(any(m in sys.modules for m in ('tensorflow', 'brian2', 'nengo_dl')))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "False"
