"""Ports for test and benchmark stacks stay out of the kernel's ephemeral range, so the
Temporal dev server's own `bind(0)` ports can never land on one of them."""

import socket

import pytest

from cli.processes import _ephemeral_range, free_ports


def test_free_ports_are_distinct_bindable_and_never_ones_the_kernel_hands_out() -> None:
    low, high = _ephemeral_range()
    ports = free_ports(40)
    assert len(set(ports)) == 40
    assert all(not low <= port <= high for port in ports), (low, high, ports)
    for port in ports:
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))


def test_a_port_someone_listens_on_is_never_picked(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as held, socket.socket() as spare:
        held.bind(("127.0.0.1", 0))
        held.listen()
        spare.bind(("127.0.0.1", 0))
        taken, other = held.getsockname()[1], spare.getsockname()[1]
        spare.close()
        draws = iter([taken, taken, other])
        monkeypatch.setattr("random.SystemRandom.randrange", lambda self, low, high: next(draws))
        assert free_ports(1) == [other]
