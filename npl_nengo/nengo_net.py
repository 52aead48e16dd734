"""``to_nengo``: any npl_nengo network as a plain ``nengo.Network``."""

from __future__ import annotations

from typing import Any, Mapping

from .errors import ValidationError
from .nef import NEFNetwork, build_nef, nef
from .program import Circuit, Program
from .rnn import ProgrammedRNN

__all__ = ["to_nengo"]


def to_nengo(
    network: Program | Circuit | ProgrammedRNN | NEFNetwork,
    method: str | None = None,
    n_neurons: int | Mapping[str, int] | None = None,
    inputs: Mapping[str, Any] | None = None,
    neurons: str | None = None,
    neuron_type: Any = None,
    synapse: str = "zoh",
    dt: float = 1e-3,
    max_rate: float = 1000.0,
    seed: int = 0,
    label: str | None = None,
    add_to_container: bool | None = None,
    **compile_options: Any,
):
    """Build a ``nengo.Network`` a user can simulate or include in a model.

    Parameters
    ----------
    network
        A :class:`ProgrammedRNN` (its neuron-level network), an
        :class:`~npl_nengo.nef.NEFNetwork`, or a Program/Circuit, which is
        compiled with ``method``.
    method
        For a Program/Circuit: ``"nef"`` (NEF ensembles, the default),
        ``"taylor"`` or ``"sampled"`` (compile, then the neuron-level network).
    n_neurons
        Neurons per part (compiler or NEF ensembles).
    inputs
        ``{input name: value}``: a source Node per input (a slider in the Nengo
        GUI); inputs left out are open passthrough Nodes (``net.inputs``) to
        connect from your own model.
    neurons
        Neuron level: ``"rate"`` (default), ``"regular"``, ``"poisson"``,
        ``"stochastic"``, ``"lif"``.  NEF: ``"lif"`` (default: ``neuron_type``
        as given) or ``"rate"`` (its rate counterpart, e.g. ``nengo.LIFRate``).
    neuron_type
        NEF route: the ensembles' nengo neuron type (default ``nengo.LIF()``).
    synapse, dt, max_rate
        Neuron level: the loop synapse (``"zoh"`` or ``"euler"``), the time
        step the network will be simulated with, the spike rate at tanh = 1.
    seed
        Seed of the compiler / ensembles and of the network.
    add_to_container
        As for ``nengo.Network``: inside a ``with model:`` block the network is
        added to ``model`` (the default).
    **compile_options
        Passed to :func:`npl_nengo.compile` (e.g. ``gamma``, ``activation``).

    Returns
    -------
    nengo.Network
        With ``net.inputs`` and ``net.outputs`` (``{name: passthrough Node}``)
        and ``net.output_connections``; neuron level also ``net.ensemble``,
        NEF ``net.parts`` ({part path: Ensemble}).

    Examples
    --------
    >>> import nengo, npl_nengo
    >>> from npl_nengo import networks
    >>> with nengo.Network() as model:                      # doctest: +SKIP
    ...     gate = npl_nengo.to_nengo(networks.get("nand").build(), method="nef")
    ...     a = nengo.Node(0.1); b = nengo.Node(-0.1)
    ...     nengo.Connection(a, gate.inputs["s1"]); nengo.Connection(b, gate.inputs["s2"])
    ...     p = nengo.Probe(gate.outputs["o"], synapse=0.01)
    """
    from .backends.nengo import build

    if isinstance(network, (Program, Circuit)):
        method = "nef" if method is None else method
        if method == "nef":
            network = nef(network, n_neurons=n_neurons, neuron_type=neuron_type, seed=seed)
        elif method in ("taylor", "sampled"):
            from .compiler import compile

            network = compile(network, n_neurons=n_neurons, method=method, seed=seed, **compile_options)
        else:
            raise ValidationError(f"to_nengo: method {method!r} is not 'nef', 'taylor' or 'sampled'")
    elif method is not None:
        raise ValidationError(f"to_nengo: method={method!r} applies to a Program or Circuit, not a {type(network).__name__}")
    if isinstance(network, NEFNetwork):
        return build_nef(network, inputs, neurons=neurons or "lif", dt=dt, label=label,
                         add_to_container=add_to_container)
    if isinstance(network, ProgrammedRNN):
        return build(network, inputs, neurons=neurons or "rate", synapse=synapse, dt=dt, max_rate=max_rate, seed=seed,
                     label=label, add_to_container=add_to_container)
    raise ValidationError(f"to_nengo: expected a Program, Circuit, ProgrammedRNN or NEFNetwork, got {type(network).__name__}")
