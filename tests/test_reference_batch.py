"""Batched trials on the reference backend (states (trials, N), one vectorized run).

Trial i of a batch is the single run of its inputs and initial state with the batch's seed, to
rounding (the batched matrix products round differently: ~||W|| eps in the outputs); a batch of one
equals the single run bit for bit.
"""

import numpy as np
import pytest

import npl_nengo as npl
from npl_nengo.backends import reference
from npl_nengo.networks import logic

ROWS = [{"s1": a, "s2": b} for a in (-0.1, 0.1) for b in (-0.1, 0.1)]


@pytest.fixture(scope="module")
def sampled():
    return npl.compile(logic.gate("nand"), n_neurons=30, method="sampled", seed=0)


def _tol(rnn):
    return 50 * rnn.weight_norm * np.finfo(float).eps


@pytest.mark.parametrize("neurons, options", [("rate", {}), ("rate", {"integrator": "euler"}),
                                              ("regular", {}), ("poisson", {})])
def test_a_batch_equals_its_trials_run_alone(sampled, neurons, options):
    batch = npl.run(sampled, ROWS, 0.2, neurons=neurons, seed=3, **options)
    assert batch.trials == 4 and batch["o"].shape == (4, 200) and batch.backend == "reference"
    for i, row in enumerate(ROWS):
        alone = npl.run(sampled, row, 0.2, neurons=neurons, seed=3, **options)
        np.testing.assert_array_equal(batch.trial(i).t, alone.t)
        np.testing.assert_allclose(batch.trial(i)["o"], alone["o"], rtol=0, atol=_tol(sampled))
    settled = batch["o"][:, -1]
    assert neurons == "poisson" or np.all(settled[:3] > 0.05) and settled[3] < -0.05  # NAND


def test_a_batch_of_the_min_norm_network_agrees_to_its_weights_rounding(nand30):
    batch = npl.run(nand30, ROWS, 0.2)
    for i, row in enumerate(ROWS):
        np.testing.assert_allclose(batch["o"][i], npl.run(nand30, row, 0.2)["o"], rtol=0, atol=_tol(nand30))


@pytest.mark.parametrize("neurons", ["rate", "regular", "poisson"])
def test_a_batch_of_one_is_the_single_run_bit_for_bit(sampled, neurons):
    one = npl.run(sampled, [ROWS[2]], 0.1, neurons=neurons, seed=5, record_spikes=5 if neurons != "rate" else False)
    alone = npl.run(sampled, ROWS[2], 0.1, neurons=neurons, seed=5, record_spikes=5 if neurons != "rate" else False)
    assert one.trials == 1 and alone.trials is None
    np.testing.assert_array_equal(one["o"][0], alone["o"])
    if neurons != "rate":
        np.testing.assert_array_equal(one.spikes[0], alone.spikes)


def test_a_list_of_initial_states_is_one_per_trial(sampled):
    starts = [None, "zero", {"o": 0.1}, "rstar"]
    batch = npl.run(sampled, ROWS[0], 0.1, initial=starts, integrator="euler")
    assert batch.trials == 4
    for i, start in enumerate(starts):
        alone = npl.run(sampled, ROWS[0], 0.1, initial=start, integrator="euler")
        np.testing.assert_allclose(batch["o"][i], alone["o"], rtol=0, atol=_tol(sampled))
    assert batch.info["final_state"].shape == (4, sampled.n_neurons)
    with pytest.raises(npl.ValidationError, match="initial states for a batch"):
        npl.run(sampled, ROWS, 0.1, initial=starts[:3])


def test_spikes_are_recorded_per_trial_with_each_trials_draws(sampled):
    batch = npl.run(sampled, ROWS, 0.05, neurons="poisson", seed=2, record_spikes=7)
    assert batch.spikes.shape == (4, 50, 7) and batch.spikes.dtype == np.int16
    for i, row in enumerate(ROWS):
        alone = npl.run(sampled, row, 0.05, neurons="poisson", seed=2, record_spikes=7)
        np.testing.assert_array_equal(batch.spikes[i], alone.spikes)  # the same seed: the same draws
    # every trial has its own generator: trials of equal inputs spike alike, a new seed differently
    same = npl.run(sampled, [ROWS[0]] * 2, 0.05, neurons="poisson", seed=2, record_spikes=True)
    np.testing.assert_array_equal(same.spikes[0], same.spikes[1])
    other = npl.run(sampled, ROWS[0], 0.05, neurons="poisson", seed=9, record_spikes=True)
    assert not np.array_equal(other.spikes, same.spikes[0])


def test_sample_every_and_time_varying_inputs_in_a_batch(sampled):
    trials = [{"s1": lambda t: 0.1 * np.sin(20 * t), "s2": 0.1}, {"s1": np.linspace(-0.1, 0.1, 300), "s2": -0.1}]
    batch = npl.run(sampled, trials, 0.3, sample_every=7)
    assert batch["o"].shape == (2, 300 // 7) and np.allclose(batch.t, (np.arange(42) + 1) * 7e-3)
    for i, x in enumerate(trials):
        np.testing.assert_allclose(batch["o"][i], npl.run(sampled, x, 0.3, sample_every=7)["o"], rtol=0,
                                   atol=_tol(sampled))


def test_progress_and_ctrl_c_in_a_batch(sampled):
    seen = []
    npl.run(sampled, ROWS, 0.6, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (600, 600)

    def stop(done, total):
        if done >= 256:
            raise KeyboardInterrupt

    res = npl.run(sampled, ROWS, 1.0, progress=stop, sample_every=2)
    assert res.info["interrupted"] is True and res.trials == 4
    assert res["o"].shape == (4, len(res.t)) and len(res.t) == 128 and res.info["steps"] == 256


def _unstable(rnn):
    """The network with gamma = 3/dt: forward Euler then doubles |r| every step, to overflow after ~1000 steps."""
    import dataclasses
    return dataclasses.replace(rnn, gamma=3000.0)


def _time(err) -> float:
    return float(str(err.value).split("t=")[1].split(" s")[0])


def test_a_divergence_is_reported_at_the_first_bad_sample_though_checked_in_blocks(sampled, monkeypatch):
    bad = _unstable(sampled)
    messages = []
    for check in (1, reference.CHECK_EVERY):  # checked each step (as before), and in blocks: one message
        monkeypatch.setattr(reference, "CHECK_EVERY", check)
        with pytest.raises(npl.SimulationError, match=r"'o' is not finite at t=") as err:
            npl.run(bad, ROWS[0], 2.0, integrator="euler", max_excursion=None)
        messages.append(str(err.value))
    assert messages[0] == messages[1] and "(trial" not in messages[0]
    t = _time(err)
    assert 0.5 < t < 1.5 and round(t / 1e-3) % reference.CHECK_EVERY != 0  # inside a block, not at its end
    # sample_every: the first non-finite recorded sample
    with pytest.raises(npl.SimulationError, match=r"'o' is not finite at t=") as err:
        npl.run(bad, ROWS[0], 2.0, integrator="euler", max_excursion=None, sample_every=3)
    t3 = _time(err)
    assert round(t3 * 1e3) % 3 == 0 and t <= t3 < t + 3e-3


def test_a_divergence_in_one_trial_of_a_batch_names_that_trial(sampled):
    bad = _unstable(sampled)
    starts = ["rstar", np.full(sampled.n_neurons, 1e200)]  # trial 1 overflows first
    with pytest.raises(npl.SimulationError, match=r"'o' is not finite at t=.* s \(trial 1\)") as err:
        npl.run(bad, ROWS[0], 2.0, initial=starts, integrator="euler", max_excursion=None)
    with pytest.raises(npl.SimulationError) as alone:
        npl.run(bad, ROWS[0], 2.0, initial=starts[1], integrator="euler", max_excursion=None)
    assert _time(err) == _time(alone) < 0.5
    # a non-finite state under Poisson spikes (no counts to draw): the trial and the step
    starts = ["rstar", np.full(sampled.n_neurons, np.inf)]
    for neurons, at in (("rate", "0\\.001"), ("regular", "0\\.001"), ("poisson", "0")):  # Poisson: the state at t
        with pytest.raises(npl.SimulationError, match=rf"not finite at t={at} s \(trial 1\)"):
            npl.run(sampled, ROWS[0], 0.5, initial=starts, neurons=neurons, max_excursion=None)
