import signal
import warnings

import pytest

import npl_nengo as npl
from npl_nengo import registry
from npl_nengo.networks import logic

warnings.filterwarnings("ignore", category=DeprecationWarning)

# A run started in the background of a non-interactive shell (`nohup ... &`) inherits SIGINT ignored, and
# Python then installs no KeyboardInterrupt handler: the Ctrl-C tests need the default one back, before
# Brian2's import records the handler it passes signals on to (it would keep SIG_IGN, which is no callable).
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

#: Backends the shared tanh suites (test_spiking.py, test_hostile_runs.py, ...) run on: the LIF-only ones
#: (nest, the Loihi emulator) have their own tests, and tests/test_backends.py covers every backend.
BACKENDS = [name for name in registry.BACKENDS if name not in registry.LIF_ONLY]


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


NAND_TEXT = "10*(-123.0769*o**3 + 0.2308*o + 0.1 - (s1 + 0.1)*(s2 + 0.1)/0.2)"


@pytest.fixture(scope="session")
def nand_program():
    return npl.Program(
        "nand",
        derivatives={"o": NAND_TEXT},
        inputs={"s1": (-0.1, 0.1), "s2": (-0.1, 0.1)},
        ranges={"o": (-0.15, 0.15)},
    )


@pytest.fixture(scope="session")
def nand30():
    """The paper's 30-neuron NAND gate, compiled with the taylor (min-norm) method."""
    return npl.compile(logic.gate("nand"), n_neurons=30, method="taylor", seed=0)


@pytest.fixture(scope="session")
def lorenz_program():
    """The port's scaled Lorenz system (docs/method.md §4.3)."""
    return npl.Program(
        "lorenz",
        derivatives={"x": "y - x", "y": "0.1*x - 0.1*y - 20*x*z", "z": "20*x*y - 4/15*z - 0.036"},
        ranges={"x": (-0.12, 0.12), "y": (-0.15, 0.15), "z": (-0.15, 0.15)},
    )
