"""Logic gates and circuits (docs/method.md §4.2).

Each gate is the authors' pitchfork program: one state variable ``o`` with

    do/dt = 10 * (c o + a o**3 + L(s1, s2)),   c = 3/13, a = -c / (3 * 0.025**2)

whose unique fixed point for inputs at the logic levels ±0.1 is exactly ±0.1
(True = +0.1, False = -0.1).  Circuits wire gates: the SR latch (two NOR), the
ring oscillator (three NAND as inverters), half and full adders.
"""

from __future__ import annotations

from ..program import Circuit, Program

__all__ = ["GATES", "TRUTH", "gate", "sr_latch", "ring_oscillator", "half_adder", "full_adder"]

# Exact constants as text, so the parser builds rationals: c = 3/13, a = -c/(3 xw^2) = -1600/13.
_C, _A, _XF = "3/13", "(-1600/13)", "(1/10)"
#: L(s1, s2) of each gate.
GATES = {
    "and": f"-{_XF} + (s1 + {_XF})*(s2 + {_XF})/(2*{_XF})",
    "nand": f"{_XF} - (s1 + {_XF})*(s2 + {_XF})/(2*{_XF})",
    "or": f"{_XF} - (s1 - {_XF})*(s2 - {_XF})/(2*{_XF})",
    "nor": f"-{_XF} + (s1 - {_XF})*(s2 - {_XF})/(2*{_XF})",
    "xor": f"-s1*s2/{_XF}",
    "xnor": f"s1*s2/{_XF}",
}
#: Boolean function of each gate.
TRUTH = {
    "and": lambda a, b: a and b,
    "nand": lambda a, b: not (a and b),
    "or": lambda a, b: a or b,
    "nor": lambda a, b: not (a or b),
    "xor": lambda a, b: a != b,
    "xnor": lambda a, b: a == b,
}


def gate(kind: str, speed: float = 10.0) -> Program:
    """The logic gate program ``kind`` (one of :data:`GATES`).

    ``speed`` multiplies the vector field (the authors use 10).
    """
    if kind not in GATES:
        from ..errors import ValidationError

        raise ValidationError(f"gate: {kind!r} is not one of {sorted(GATES)}")
    return Program(
        kind,
        derivatives={"o": f"{speed}*({_C}*o + {_A}*o**3 + {GATES[kind]})"},
        inputs={"s1": (-0.1, 0.1), "s2": (-0.1, 0.1)},
        ranges={"o": (-0.15, 0.15)},
        description=f"{kind.upper()} gate (levels ±0.1)",
    )


def sr_latch() -> Circuit:
    """SR latch from two cross-coupled NOR gates (60 neurons in the paper).

    ``q = NOR(r, nq)`` and ``nq = NOR(q, s)``: a True pulse on ``s`` sets ``q``,
    on ``r`` resets it; with both False the latch holds.
    """
    nor = gate("nor")
    return Circuit(
        "sr_latch",
        parts={"n1": nor, "n2": nor},
        wires=[("n2.o", "n1.s2"), ("n1.o", "n2.s1")],
        inputs={"r": ["n1.s1"], "s": ["n2.s2"]},
        outputs={"q": "n1.o", "nq": "n2.o"},
        description="SR latch: two cross-coupled NOR gates",
    )


def ring_oscillator(n: int = 3) -> Circuit:
    """Ring of ``n`` (odd) NAND gates used as inverters (both inputs from the previous gate)."""
    if n < 3 or n % 2 == 0:
        from ..errors import ValidationError

        raise ValidationError(f"ring_oscillator: n must be odd and >= 3, got {n}")
    nand = gate("nand")
    parts = {f"g{i + 1}": nand for i in range(n)}
    wires = []
    for i in range(n):
        src, dst = f"g{i + 1}", f"g{(i + 1) % n + 1}"
        wires += [(f"{src}.o", f"{dst}.s1"), (f"{src}.o", f"{dst}.s2")]
    return Circuit(
        "ring_oscillator",
        parts=parts,
        wires=wires,
        outputs={f"o{i + 1}": f"g{i + 1}.o" for i in range(n)},
        description=f"multivibrator: ring of {n} NAND inverters",
    )


def half_adder() -> Circuit:
    """Half adder: ``sum = XOR(a, b)``, ``carry = AND(a, b)``."""
    return Circuit(
        "half_adder",
        parts={"x": gate("xor"), "c": gate("and")},
        inputs={"a": ["x.s1", "c.s1"], "b": ["x.s2", "c.s2"]},
        outputs={"sum": "x.o", "carry": "c.o"},
        description="half adder: XOR and AND",
    )


def full_adder() -> Circuit:
    """Full adder from five gates (150 neurons in the paper).

    G1 = XOR(a, b), G2 = XOR(G1, cin) -> sum, G3 = AND(G1, cin), G4 = AND(a, b),
    G5 = OR(G3, G4) -> carry.
    """
    return Circuit(
        "full_adder",
        parts={"g1": gate("xor"), "g2": gate("xor"), "g3": gate("and"), "g4": gate("and"), "g5": gate("or")},
        wires=[("g1.o", "g2.s1"), ("g1.o", "g3.s1"), ("g3.o", "g5.s1"), ("g4.o", "g5.s2")],
        inputs={"a": ["g1.s1", "g4.s1"], "b": ["g1.s2", "g4.s2"], "cin": ["g2.s2", "g3.s2"]},
        outputs={"sum": "g2.o", "carry": "g5.o"},
        description="full adder: five gates",
    )
