"""The end-to-end tests' service processes, forked from one that imported them once.

A platform is five processes (four services and the gateway stand-ins), and each new interpreter
spent 2.5 s of CPU importing the same libraries (SQLAlchemy, FastAPI, FastStream, pydantic
models) before it did anything: on two cores, most of a platform's ten-second start, some forty
times a run. The fork server (`python -m tests.forkserver MODULE..`) imports the modules once;
each process after that is a fork of it with its own environment, arguments and log, run as
`python -m` would run it. `ForkServer.start` returns a handle that answers as `subprocess.Popen`
does (pid, poll, wait, terminate, kill, send_signal), so the tests stop, kill and restart
processes as before.

The fork server speaks JSON lines on its standard input and output. It starts no thread and no
event loop before it forks, and the services read their environment when they start, not on
import (the chaos crash points too: `socialsvc_common.faults.kill_at`).
"""

import importlib
import json
import os
import runpy
import signal
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[1]


class Forked:
    """A process the fork server started, handled as a `subprocess.Popen`."""

    def __init__(self, server: "ForkServer", pid: int, args: list[str]) -> None:
        self.server = server
        self.pid = pid
        self.args = args
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self.server.status(self.pid)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(self.args, timeout or 0)
            time.sleep(0.02)
        return code

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class ForkServer:
    """The test process's side: starts the fork server and asks it for processes."""

    def __init__(self, preload: list[str]) -> None:
        self._server = subprocess.Popen(
            [sys.executable, "-m", "tests.forkserver", *preload],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=ROOT,
        )
        self._lock = threading.Lock()
        assert self._ask({"op": "ready"}) == {"ready": True}

    def start(self, args: list[str], env: dict[str, str], log: Path) -> Forked:
        """`python -m *args` with exactly `env`, its output appended to `log`. The log exists
        when this returns (the child opens it only once it runs), so a reader can start at once."""
        log.touch()
        answer = self._ask({"op": "start", "args": args, "env": env, "log": str(log)})
        return Forked(self, int(answer["pid"]), args)

    def status(self, pid: int) -> int | None:
        """None while the process runs; then its exit code, negative for a signal."""
        code = self._ask({"op": "status", "pid": pid})["code"]
        return None if code is None else int(code)

    def close(self) -> None:
        assert self._server.stdin is not None
        self._server.stdin.close()
        self._server.wait(timeout=30)

    def _ask(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self._server.stdin is not None
        assert self._server.stdout is not None
        with self._lock:
            self._server.stdin.write(json.dumps(request).encode() + b"\n")
            self._server.stdin.flush()
            line = self._server.stdout.readline()
        if not line:
            raise RuntimeError(f"the fork server ended (exit code {self._server.poll()})")
        answer: dict[str, Any] = json.loads(line)
        return answer


def run_child(args: list[str], env: dict[str, str], log: str) -> None:
    """In the forked child: becomes `python -m *args` and ends the process with its exit code."""
    out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.close(out)
    nothing = os.open(os.devnull, os.O_RDONLY)
    os.dup2(nothing, 0)
    os.close(nothing)
    os.environ.clear()
    os.environ.update(env)
    sys.argv = list(args)
    code: int | str | None = 0
    try:
        runpy.run_module(args[0], run_name="__main__", alter_sys=True)
    except SystemExit as ended:
        code = ended.code
    except BaseException:  # what an interpreter prints for an uncaught exception, then 1
        traceback.print_exc()
        code = 1
    # A normal interpreter exit from here (atexit, flushed streams), as `python -m` ends.
    raise SystemExit(code)


def serve(requests: IO[bytes], answers: IO[bytes]) -> None:
    """Answers requests until its input ends; a forked child leaves by SystemExit."""
    ended: dict[int, int] = {}
    for line in requests:
        request = json.loads(line)
        answer: dict[str, Any]
        if request["op"] == "ready":
            answer = {"ready": True}
        elif request["op"] == "start":
            answers.flush()
            pid = os.fork()
            if pid == 0:
                answers.close()
                run_child(request["args"], request["env"], request["log"])
            answer = {"pid": pid}
        else:
            pid = request["pid"]
            if pid not in ended:
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    ended[pid] = os.waitstatus_to_exitcode(status)
            answer = {"code": ended.get(pid)}
        answers.write(json.dumps(answer).encode() + b"\n")
        answers.flush()


def main() -> None:
    # The answers go on a copy of standard output; standard output itself goes where standard
    # error goes, so that nothing a module prints can garble them (each child points both at
    # its log).
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    for module in sys.argv[1:]:
        importlib.import_module(module)
    serve(sys.stdin.buffer, answers)


if __name__ == "__main__":
    main()
