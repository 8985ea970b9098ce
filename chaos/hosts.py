"""Hosts on one machine: a network namespace per host, each with an address of its own on a
bridge of this machine's, where the suite itself (the load, the gateway stand-ins, the checker)
has the first address. A host is cut off by taking its port on the bridge down: to the others it
is gone, as a host whose switch port or cable failed, while its processes run on.

Needs CAP_NET_ADMIN (root). Names start with the network's prefix (`ssmh` by default) and the
network is 10.77.0.0/24 by default; `up` removes what a run killed before its `down` left.
"""

import functools
import ipaddress
import shutil
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

PREFIX = "ssmh"


class HostsError(RuntimeError):
    pass


@functools.cache
def ip_tool() -> str:
    found = shutil.which("ip") or shutil.which("ip", path="/usr/sbin:/sbin")
    if found is None:
        raise HostsError("iproute2's ip not found: install Debian's iproute2 package")
    return found


def ip(*args: str) -> None:
    done = subprocess.run([ip_tool(), *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise HostsError(f"ip {' '.join(args)}: {done.stderr.strip()}")


def in_netns(netns: str | None, args: list[str]) -> list[str]:
    """`args` run inside the network namespace `netns`, or as they are without one."""
    return [ip_tool(), "netns", "exec", netns, *args] if netns else args


def existing_namespaces() -> set[str]:
    done = subprocess.run([ip_tool(), "netns", "list"], capture_output=True, text=True, check=True)
    return {line.split()[0] for line in done.stdout.splitlines() if line.strip()}


@dataclass(frozen=True)
class Host:
    name: str
    address: str
    index: int
    prefix: str = PREFIX

    @property
    def netns(self) -> str:
        return f"{self.prefix}-{self.name}"

    @property
    def port(self) -> str:
        """Its veth's end on the bridge (interface names have at most 15 characters)."""
        return f"{self.prefix}p{self.index}"


class Network:
    def __init__(
        self, names: Iterable[str], subnet: str = "10.77.0.0/24", prefix: str = PREFIX
    ) -> None:
        network = ipaddress.ip_network(subnet)
        addresses = network.hosts()
        self.subnet = str(network)
        self.prefixlen = network.prefixlen
        self.gateway = str(next(addresses))
        self.prefix = prefix
        self.bridge = f"{prefix}br"
        self.hosts = {
            name: Host(name, str(next(addresses)), index, prefix)
            for index, name in enumerate(names)
        }
        self.cut_off: set[str] = set()

    def __getitem__(self, name: str) -> Host:
        return self.hosts[name]

    def __iter__(self) -> Iterator[Host]:
        return iter(self.hosts.values())

    def up(self) -> None:
        self.down()
        ip("link", "add", self.bridge, "type", "bridge")
        ip("addr", "add", f"{self.gateway}/{self.prefixlen}", "dev", self.bridge)
        ip("link", "set", self.bridge, "up")
        for host in self.hosts.values():
            ip("netns", "add", host.netns)
            ip(
                "link",
                "add",
                host.port,
                "type",
                "veth",
                *("peer", "name", "eth0"),
                "netns",
                host.netns,
            )
            ip("link", "set", host.port, "master", self.bridge, "up")
            ip("-n", host.netns, "addr", "add", f"{host.address}/{self.prefixlen}", "dev", "eth0")
            ip("-n", host.netns, "link", "set", "eth0", "up")
            ip("-n", host.netns, "link", "set", "lo", "up")

    def cut(self, name: str) -> None:
        ip("link", "set", self.hosts[name].port, "down")
        self.cut_off.add(name)

    def restore(self, name: str) -> None:
        ip("link", "set", self.hosts[name].port, "up")
        self.cut_off.discard(name)

    def down(self) -> None:
        """Removes the hosts' links, their namespaces and the bridge, where there. The links go
        first: a namespace's own go with it, but later, which a quick `up` would run into."""
        for host in self.hosts.values():
            _absent_is_fine("link", "delete", host.port)
        for netns in existing_namespaces():
            if netns.startswith(f"{self.prefix}-"):
                ip("netns", "delete", netns)
        _absent_is_fine("link", "delete", self.bridge)
        self.cut_off.clear()


def _absent_is_fine(*args: str) -> None:
    try:
        ip(*args)
    except HostsError as error:
        if "Cannot find device" not in str(error):
            raise
