"""Two pytest-xdist workers hand out ports from shares of their own."""

import pytest

from tests.harness import worker_ports

EVERY = range(20000, 32000)


def ports_of(monkeypatch: pytest.MonkeyPatch, worker: str, workers: int) -> range:
    monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", str(workers))
    return worker_ports(EVERY)


def test_two_workers_draw_from_halves_that_do_not_meet(monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = ports_of(monkeypatch, "gw0", 2), ports_of(monkeypatch, "gw1", 2)
    assert not set(first) & set(second)
    assert len(first) == len(second) == len(EVERY) // 2
    assert set(first) | set(second) == set(EVERY)


def test_one_process_draws_from_every_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    monkeypatch.delenv("PYTEST_XDIST_WORKER_COUNT", raising=False)
    assert worker_ports(EVERY) == EVERY


def test_a_replacement_worker_takes_the_share_of_its_number_modulo_the_workers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert ports_of(monkeypatch, "gw2", 2) == ports_of(monkeypatch, "gw0", 2)
