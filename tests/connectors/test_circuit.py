"""The circuit breaker's rules, on a clock the test moves: it opens on enough failures
that are also a large enough share of the window's reads, lets one probe through when
half-open, and forgets failures that left the window."""

from __future__ import annotations

from connectors import CircuitOptions, CircuitState
from connectors.circuit import Circuit


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_it_opens_on_enough_failures_that_are_a_large_enough_share() -> None:
    clock = Clock()
    circuit = Circuit(CircuitOptions(failures=3, failure_rate=0.5, window_seconds=10), clock)
    for _ in range(6):
        circuit.succeeded()
    circuit.failed()
    circuit.failed()
    circuit.failed()  # 3 failures of 9 reads: not half
    assert circuit.state is CircuitState.CLOSED and circuit.admit()
    circuit.failed()
    circuit.failed()
    circuit.failed()  # 6 of 12
    assert circuit.state is CircuitState.OPEN and not circuit.admit()


def test_failures_that_left_the_window_are_forgotten() -> None:
    clock = Clock()
    circuit = Circuit(CircuitOptions(failures=2, window_seconds=10), clock)
    circuit.failed()
    clock.now += 11
    circuit.failed()
    assert circuit.state is CircuitState.CLOSED


def test_half_open_lets_one_probe_through_and_its_outcome_decides() -> None:
    clock = Clock()
    circuit = Circuit(CircuitOptions(failures=1, cool_down_seconds=15), clock)
    circuit.failed()
    clock.now += 14
    assert circuit.state is CircuitState.OPEN and not circuit.admit()
    clock.now += 1
    assert circuit.state is CircuitState.HALF_OPEN
    assert circuit.admit() and not circuit.admit()  # one probe, the others fail fast
    circuit.failed()
    assert circuit.state is CircuitState.OPEN  # another cool-down
    clock.now += 15
    assert circuit.admit()
    circuit.abandoned()  # a probe refused before any call passes its turn on
    assert circuit.admit()
    circuit.succeeded()
    assert circuit.state is CircuitState.CLOSED and circuit.admit()
