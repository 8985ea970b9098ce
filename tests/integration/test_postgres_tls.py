"""PostgreSQL takes TCP connections over TLS only (deploy/postgres/pgctl): a client that checks
the server's certificate against the cluster's own authority gets an encrypted session, one that
trusts only the system's authorities refuses the server, and one without TLS is turned away.
(`make test` runs every test with PGSSLMODE=verify-full, so all of them connect this way.)"""

import ssl
import subprocess
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from tests.harness import ROOT

pytestmark = pytest.mark.integration


def authority() -> Path:
    found = subprocess.run(
        [ROOT / "deploy" / "postgres" / "pgctl", "ca"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return Path(found.stdout.strip())


async def connect(url: str, tls: ssl.SSLContext | bool) -> asyncpg.Connection:
    parts = make_url(url)
    return await asyncpg.connect(
        host=parts.host,
        port=parts.port,
        user=parts.username,
        password=parts.password,
        database=parts.database,
        ssl=tls,
        timeout=10,
    )


async def test_a_checked_tls_session_is_the_only_way_in(postgres_url: str) -> None:
    checked = ssl.create_default_context(cafile=authority())
    connection = await connect(postgres_url, checked)
    try:
        encrypted, version = await connection.fetchrow(
            "SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
        )
    finally:
        await connection.close()
    assert encrypted is True
    assert version in {"TLSv1.2", "TLSv1.3"}
    with pytest.raises(ssl.SSLCertVerificationError):
        await connect(postgres_url, ssl.create_default_context())
    with pytest.raises(asyncpg.InvalidAuthorizationSpecificationError, match="no encryption"):
        await connect(postgres_url, False)
