"""The bench's PostgreSQL figure: a server found by the port it listens on and its name, and its
CPU counted over the whole process tree, children that ended included."""

import socket
import subprocess
import sys
import time

import psutil

from benchmarks.bench.processes import Sampler, database_server_pid, listening_pid

# A parent that starts a child burning about half a second of CPU, reaps it and stays: what a
# postmaster does with a backend whose connection closed.
BURN = "import time\\nt = time.process_time()\\nwhile time.process_time() - t < 0.5: pass"
PARENT = f"""
import subprocess, sys, time
input()
subprocess.run([sys.executable, "-c", "{BURN}"], check=True)
print("reaped", flush=True)
time.sleep(30)
"""


def test_a_tree_counts_a_child_reaped_while_watched_and_a_single_process_does_not() -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert parent.stdin is not None
    assert parent.stdout is not None
    try:
        sampler = Sampler(time.time())
        sampler.watch("tree", parent.pid, tree=True)
        sampler.watch("alone", parent.pid)
        parent.stdin.write(b"go\n")
        parent.stdin.flush()
        assert parent.stdout.readline().strip() == b"reaped"
        assert not psutil.Process(parent.pid).children()
        for name in ("tree", "alone"):
            sampler.forget(name)
        assert sampler.usage["tree"].cpu_seconds >= 0.45
        assert sampler.usage["alone"].cpu_seconds < 0.3
        assert sampler.usage["tree"].peak_rss_mb > 0
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
