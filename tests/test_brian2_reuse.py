"""Brian2: a network built once is not built again.

* cpp_standalone: a second run of the same network with other inputs, another
  duration and other initial phases runs the binary built by the first
  (``run_args``: the initial state, the input table and ``signals.T_run``, the
  run's length); the binary is not rewritten and the outputs and spikes equal a
  fresh build's.
* cython: the generated code does not depend on the run's length or on object
  name counters, so an identical second run and a run of another length (of a
  time-varying input) add no extension module to Cython's cache.

Structural checks only (no timing): the build counters, the binary's mtime,
the files in the Cython cache.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import npl_nengo as npl
from npl_nengo import networks

b2 = pytest.importorskip("brian2")
from npl_nengo.backends import brian2 as b2_backend  # noqa: E402

REGULAR = dict(backend="brian2", neurons="regular", max_rate=1000.0)


@pytest.fixture(scope="module")
def nand():
    return npl.compile(networks.get("nand").build(), method="sampled", n_neurons=100, seed=1)


def _same(a, b):
    np.testing.assert_array_equal(a.t, b.t)
    for name in a.outputs:
        np.testing.assert_allclose(a[name], b[name], rtol=0, atol=1e-12)
    if a.spikes is not None or b.spikes is not None:
        np.testing.assert_array_equal(a.spikes, b.spikes)


@pytest.mark.slow  # two cpp_standalone builds (~30 s); run with -m slow
def test_standalone_second_run_reuses_the_binary(nand, tmp_path, monkeypatch):
    b2_backend.clear_cache()
    build = tmp_path / "build"
    first = npl.run(nand, {"s1": 0.1, "s2": -0.1}, 0.1, target="cpp_standalone", seed=3, record_spikes=20,
                    build_dir=str(build), **REGULAR)
    assert first.info["standalone"]["built"] is True
    binary = build / "main"
    mtime, builds = os.stat(binary).st_mtime_ns, b2_backend.STATS["builds"]
    # other inputs, another length, other phases (seed): the same binary
    second = npl.run(nand, {"s1": -0.1, "s2": -0.1}, 0.17, target="cpp_standalone", seed=4, record_spikes=20,
                     build_dir=str(build), **REGULAR)
    assert second.info["standalone"]["built"] is False
    assert b2_backend.STATS["builds"] == builds
    assert os.stat(binary).st_mtime_ns == mtime
    assert second.info["steps"] == 170 and second.spikes.shape == (170, 20)
    assert not [f for f in os.listdir(build / "static_arrays") if f.startswith("init_")]  # run_args files removed
    # the same as a fresh build of the second run, and as the runtime target
    monkeypatch.setattr(b2_backend, "CACHE_SIZE", 0)
    fresh = npl.run(nand, {"s1": -0.1, "s2": -0.1}, 0.17, target="cpp_standalone", seed=4, record_spikes=20,
                    **REGULAR)
    assert fresh.info["standalone"]["built"] is True
    _same(second, fresh)
    _same(first, npl.run(nand, {"s1": 0.1, "s2": -0.1}, 0.1, seed=3, record_spikes=20, **REGULAR))
    b2_backend.clear_cache()


def test_cython_builds_no_module_for_a_second_run_or_another_length(nand):
    cache = b2.prefs.codegen.runtime.cython.cache_dir or os.path.join(os.path.expanduser("~"), ".cython",
                                                                      "brian_extensions")
    wave = {"s1": lambda t: 0.1 * np.cos(7 * t), "s2": -0.1}  # time-varying: the input table has a row per step
    first = npl.run(nand, wave, 0.05, target="cython", seed=2, **REGULAR)  # compiles what is not cached yet
    modules = sorted(os.listdir(cache))
    again = npl.run(nand, wave, 0.05, target="cython", seed=2, **REGULAR)  # first's objects still alive
    longer = npl.run(nand, wave, 0.08, target="cython", seed=2, **REGULAR)
    npl.run(nand, {"s1": 0.1, "s2": -0.1}, 0.06, target="cython", seed=2, **REGULAR)  # held: two rows
    assert sorted(os.listdir(cache)) == modules
    _same(first, again)
    _same(longer, npl.run(nand, wave, 0.08, seed=2, **REGULAR))
