"""Experiments built on the library: studies of the method, not library entries.

The library (:mod:`npl_nengo.networks`) holds programs and the metrics that say
whether a run does what a program means; these modules use the compiler,
decompiler and backends to answer questions about the method itself:

* :mod:`~npl_nengo.experiments.rotation`: open-loop programming of a random
  reservoir to rotate a chaotic drive (docs/method.md §4.1, check 13);
* :mod:`~npl_nengo.experiments.trained`: a conventionally trained reservoir,
  decompiled into its machine code and run on every backend (§4.7);
* :mod:`~npl_nengo.experiments.guest_sweep`: virtualization error against guest
  size and expansion order (§4.4).

Nothing in the library imports this package.
"""
