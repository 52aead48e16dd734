"""The ``progress`` run option: every backend reports its steps, and reporting changes no result."""

import numpy as np
import pytest

import npl_nengo as npl
from npl_nengo import networks
from npl_nengo.errors import ValidationError
from npl_nengo.progress import tqdm_bar

BACKENDS = ["reference", "nengo", "brian2", "nengo_dl"]


@pytest.fixture(scope="module")
def rnn():
    return npl.compile(networks.get("nand").build(), method="sampled", n_neurons=40, seed=0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_backend_reports_its_steps_to_the_end(rnn, backend):
    pytest.importorskip(backend if backend != "reference" else "numpy")
    seen = []
    options = dict(duration=1.3, backend=backend, neurons="regular", seed=3)
    plain = npl.run(rnn, {"s1": 0.1, "s2": -0.1}, **options)
    watched = npl.run(rnn, {"s1": 0.1, "s2": -0.1}, progress=lambda done, total: seen.append((done, total)),
                      **options)
    assert seen and {total for _, total in seen} == {1300}
    done = [d for d, _ in seen]
    assert done == sorted(done) and 0 <= done[0] and done[-1] == 1300  # monotone, ends at the last step
    for name, values in plain.outputs.items():
        assert np.array_equal(values, watched.outputs[name]), name


@pytest.mark.slow  # a cpp_standalone build (~10 s); run with -m slow
def test_cpp_standalone_reports_start_and_end(rnn, tmp_path):
    pytest.importorskip("brian2")
    from npl_nengo.backends import brian2 as backend

    seen = []
    backend.run(rnn, {"s1": 0.1, "s2": -0.1}, duration=0.05, target="cpp_standalone", build_dir=str(tmp_path / "b"),
                progress=lambda done, total: seen.append((done, total)))
    assert seen[0] == (0, 50) and seen[-1] == (50, 50)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_progress_that_is_not_a_function_is_refused(rnn, backend):
    pytest.importorskip(backend if backend != "reference" else "numpy")
    with pytest.raises(ValidationError, match="progress"):
        npl.run(rnn, {"s1": 0.1, "s2": -0.1}, duration=0.01, backend=backend, progress="yes")


def test_tqdm_bar_draws_the_steps(capsys):
    import io

    out = io.StringIO()
    bar = tqdm_bar("run on test", file=out)
    for done in (0, 500, 1000):
        bar(done, 1000)
    bar.close()
    text = out.getvalue()
    assert "run on test" in text and "1000/1000" in text
