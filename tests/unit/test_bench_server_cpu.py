"""The bench's PostgreSQL figure: a server found by the port it listens on and its name, and its
CPU counted over the whole process tree, connections that ended included."""

import socket
import subprocess
import sys
import time

import psutil

from benchmarks.bench.processes import TreeCpu, database_server_pid, listening_pid

# A parent that starts a child burning about half a second of CPU, reaps it and stays: what a
# postmaster does with a backend whose connection closed.
BURN = "import time\\nt = time.process_time()\\nwhile time.process_time() - t < 0.5: pass"
PARENT = f"""
import subprocess, sys, time
subprocess.run([sys.executable, "-c", "{BURN}"], check=True)
print("reaped", flush=True)
time.sleep(30)
"""


def test_a_reaped_child_still_counts_in_the_tree() -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE)
    try:
        tree = TreeCpu(psutil.Process(parent.pid))
        assert parent.stdout is not None
        assert parent.stdout.readline().strip() == b"reaped"
        assert not psutil.Process(parent.pid).children()
        alone = psutil.Process(parent.pid).cpu_times()
        reading = tree.read()
        assert reading.cpu_seconds >= 0.45 + alone.user + alone.system
        assert reading.largest_rss_mb > 0
    finally:
        parent.kill()
        parent.wait()


def test_a_server_is_found_by_its_listening_address() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert listening_pid("127.0.0.1", port) == psutil.Process().pid
        assert listening_pid("localhost", port, named="python") == psutil.Process().pid
        # Whatever else holds a database's port (a proxy, a tunnel) is not taken for PostgreSQL.
        assert database_server_pid(f"postgresql+asyncpg://u:p@127.0.0.1:{port}/db") is None
    time.sleep(0.05)
    assert listening_pid("127.0.0.1", port) is None
