"""The multi-host test's hosts (chaos/hosts.py): network namespaces on a bridge, each reachable
at its own address from the others and from this machine, and one cut off and back again. A
network of its own (10.78.0.0/24, names `sstn`), so `make multihost` may run beside."""

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from chaos.hosts import Network, existing_namespaces, in_netns

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root (CAP_NET_ADMIN)"),
]
PORT = 7
# Connects to ADDRESS:PORT and prints how it went: refused means the host answered.
DIAL = (
    "import socket, sys\n"
    "s = socket.socket(); s.settimeout(1.5)\n"
    "try:\n    s.connect((sys.argv[1], int(sys.argv[2]))); print('connected')\n"
    "except ConnectionRefusedError: print('refused')\n"
    "except OSError as e: print(type(e).__name__)\n"
)


def dial(netns: str | None, address: str) -> str:
    done = subprocess.run(
        in_netns(netns, [sys.executable, "-c", DIAL, address, str(PORT)]),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return done.stdout.strip()


@pytest.fixture
def network() -> Iterator[Network]:
    hosts = Network(["one", "two"], subnet="10.78.0.0/24", prefix="sstn")
    hosts.up()
    try:
        yield hosts
    finally:
        hosts.down()


def test_each_host_has_its_address_and_reaches_the_others(network: Network) -> None:
    one, two = network["one"], network["two"]
    assert (one.address, two.address, network.gateway) == ("10.78.0.2", "10.78.0.3", "10.78.0.1")
    assert {one.netns, two.netns} <= existing_namespaces()
    assert dial(one.netns, two.address) == "refused", "reached, and nothing listens there"
    assert dial(two.netns, one.address) == "refused"
    assert dial(None, one.address) == "refused", "this machine reaches the hosts"
    assert dial(one.netns, network.gateway) == "refused", "the hosts reach this machine"


def test_a_host_cut_off_reaches_nothing_and_comes_back(network: Network) -> None:
    one, two = network["one"], network["two"]
    # A server in host two: a cut must stop a connection that would otherwise be taken.
    serve = (
        f"import socket, time; s = socket.create_server(('{two.address}', {PORT})); time.sleep(60)"
    )
    listener = subprocess.Popen(in_netns(two.netns, [sys.executable, "-c", serve]))
    try:
        _until_connected(one.netns, two.address)
        network.cut("two")
        assert dial(one.netns, two.address) == "TimeoutError"
        assert dial(None, two.address) == "TimeoutError"
        assert dial(two.netns, network.gateway) == "TimeoutError"
        network.restore("two")
        _until_connected(one.netns, two.address)
    finally:
        listener.kill()
        listener.wait()


def _until_connected(netns: str, address: str) -> None:
    for _ in range(10):
        if dial(netns, address) == "connected":
            return
    raise AssertionError(f"{address} never took a connection")


def test_down_removes_every_namespace_and_the_bridge(network: Network) -> None:
    network.down()
    assert not {host.netns for host in network} & existing_namespaces()
    bridge = subprocess.run(
        ["ip", "link", "show", network.bridge], capture_output=True, text=True, check=False
    )
    assert "does not exist" in bridge.stderr
