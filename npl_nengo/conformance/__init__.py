"""Programmed networks as a conformance suite for spiking simulators.

Programmed networks know their right answers in closed form (logic levels ±0.1, a latch's held
bit, an oscillator's period, an attractor's invariant statistics) and exercise recurrence,
synapses, spiking and long runs, so they make test fixtures for a simulator::

    pytest --pyargs npl_nengo.conformance                                  # nengo.Simulator, quick subset
    pytest --pyargs npl_nengo.conformance --simulator nengo_dl.Simulator   # any nengo.Simulator-compatible class
    pytest --pyargs npl_nengo.conformance --simulator brian2:cython        # a Brian2 device / target
    pytest --pyargs npl_nengo.conformance --simulator nest --conformance-full

Modules:

* :mod:`~npl_nengo.conformance.simulators`: what ``--simulator`` names and how a network runs on it;
* :mod:`~npl_nengo.conformance.probes`: probe networks and the exact discrete-time system;
* :mod:`~npl_nengo.conformance.expected`: known deviations of the simulators measured here;
* :mod:`~npl_nengo.conformance.plugin`: the pytest plugin (options, expected failures, the report);
* ``test_probes.py``, ``test_networks.py``: the tests, each stating its expectation and tolerance.

See ``docs/guide/conformance.md`` for the tests, their tolerances and the measured results.

Importing this package imports nothing else (the plugin loads it in every pytest session).
"""
