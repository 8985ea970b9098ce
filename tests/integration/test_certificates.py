"""deploy/make-certificates: an authority made once, and a server certificate for loopback and
the hosts' addresses, made again by the same authority when the addresses change."""

import subprocess
from pathlib import Path

import pytest

from tests.harness import ROOT

pytestmark = pytest.mark.integration
MAKE = ROOT / "deploy" / "make-certificates"


def make(directory: Path, *addresses: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(MAKE), str(directory), "test", *addresses],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def names_of(certificate: Path) -> str:
    done = subprocess.run(
        ["openssl", "x509", "-in", str(certificate), "-noout", "-ext", "subjectAltName"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return done.stdout.splitlines()[-1].strip()


def verifies(directory: Path) -> bool:
    done = subprocess.run(
        ["openssl", "verify", "-CAfile", str(directory / "ca.pem"), str(directory / "server.pem")],
        capture_output=True,
        timeout=30,
        check=False,
    )
    return done.returncode == 0


def test_the_server_certificate_follows_the_hosts_and_the_authority_stays(tmp_path: Path) -> None:
    tls = tmp_path / "tls"
    assert make(tls).returncode == 0
    assert names_of(tls / "server.pem") == "IP Address:127.0.0.1, DNS:localhost"
    authority = (tls / "ca.pem").read_bytes()
    first = (tls / "server.pem").read_bytes()

    assert make(tls).returncode == 0
    assert (tls / "server.pem").read_bytes() == first, "nothing changed: nothing made again"

    done = make(tls, "10.77.0.2", "10.77.0.3")
    assert done.returncode == 0, done.stderr
    assert names_of(tls / "server.pem") == (
        "IP Address:127.0.0.1, DNS:localhost, IP Address:10.77.0.2, IP Address:10.77.0.3"
    )
    assert (tls / "ca.pem").read_bytes() == authority, "clients keep trusting the same authority"
    assert verifies(tls)
    assert sorted(p.name for p in tls.iterdir()) == sorted(
        ["ca.key", "ca.pem", "server.key", "server.names", "server.pem"]
    )
    assert (tls / "server.key").stat().st_mode & 0o077 == 0, "the key is its owner's alone"


def test_an_address_that_is_not_one_is_refused(tmp_path: Path) -> None:
    done = make(tmp_path / "tls", "10.77.0.300x")
    assert done.returncode == 1
    assert "'10.77.0.300x' is not an IPv4 address" in done.stderr
    assert not (tmp_path / "tls").exists()
