"""The bench measures the real PostgreSQL: found from a database's URL, and a connection's CPU
still counted after the connection closed and its backend ended."""

import psutil
import psycopg
import pytest

from benchmarks.bench.processes import Sampler, database_server_pid
from socialsvc_common.db import libpq_url

pytestmark = pytest.mark.integration
# About a second of a backend's CPU on these machines.
BUSY = "SELECT count(*) FROM generate_series(1, 5000000) AS n WHERE n % 7 = 3"


def test_a_closed_connections_work_counts_in_the_servers_cpu(fresh_postgres: str) -> None:
    server = database_server_pid(fresh_postgres)
    assert server is not None, f"no PostgreSQL found listening for {fresh_postgres}"
    assert psutil.Process(server).name().startswith("postgres")
    sampler = Sampler(0.0)
    sampler.watch("postgresql", server, tree=True)
    with psycopg.connect(libpq_url(fresh_postgres)) as connection:
        backend = connection.execute("SELECT pg_backend_pid()").fetchone()
        assert backend is not None
        used = psutil.Process(backend[0])
        connection.execute(BUSY)
        times = used.cpu_times()
        spent = times.user + times.system
    psutil.wait_procs([used], timeout=10)  # the backend has ended, and been reaped
    sampler.forget("postgresql")
    assert spent > 0.2
    assert sampler.usage["postgresql"].cpu_seconds >= spent
