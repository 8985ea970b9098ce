"""The benchmark's load: FIN scheme and form templates, wrk's summary line, the e-government
records of `--mode kafka`, the CPU grouping and the progress line; and, where wrk is installed,
submit.lua against a local stand-in of intake."""

import asyncio
import re
import shutil
import subprocess
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from benchmarks.bench.__main__ import parse_args
from benchmarks.bench.load import EgovRecords, Tally, publish
from benchmarks.bench.progress import progress_line
from benchmarks.bench.report import cpu_per_application
from benchmarks.bench.run import other_token, salt_of
from benchmarks.bench.templates import (
    PLACEHOLDER,
    base36,
    fin_for,
    form_templates,
    write_templates,
)
from benchmarks.bench.wrk import WrkLoad, command, parse_summary
from socialsvc_common.contract.envelope import Envelope
from socialsvc_common.contract.payloads import ApplicationForm

FIN = re.compile(r"^[0-9A-Z]{7}$")  # payloads.Fin
SUMMARY = (
    'wrk-summary {"duration_us":2003173,"requests":105,"statuses":{"202":100,"503":5},'
    '"errors":{"connect":3,"read":1,"write":0,"timeout":2},'
    '"latency_us":{"mean":513.2,"p50":444,"p95":1006,"p99":4581,"max":4811},'
    '"behind_seconds":0.250}'
)


def test_fins_are_valid_and_unique_per_thread_and_counter() -> None:
    fins = [
        fin_for("Q", thread, counter) for thread in range(36) for counter in range(0, 50_000, 7)
    ]
    assert all(FIN.match(fin) for fin in fins)
    assert len(set(fins)) == len(fins)
    assert fin_for("Q", 1, 36**5 - 1) == "Q1ZZZZZ"
    assert base36(36, 2) == "10"
    with pytest.raises(ValueError, match="fit"):
        base36(36**5, 5)
    with pytest.raises(ValueError, match="salt"):
        fin_for("q", 0, 0)


def test_templates_filled_are_valid_forms_of_their_own(tmp_path: Path) -> None:
    pool = form_templates(seed=9, count=60)
    forms = [
        ApplicationForm.model_validate_json(t.fill(fin_for("7", 0, n))) for n, t in enumerate(pool)
    ]
    assert len({f.applicant.fin for f in forms}) == len(forms)
    assert len({f.applicant.district for f in forms}) > 20  # the geography, not one district
    lines = write_templates(tmp_path / "forms.jsonl", pool).read_text("utf-8").splitlines()
    assert len(lines) == len(pool)
    assert all(line.count(PLACEHOLDER) == 1 for line in lines)


def test_wrk_summary_becomes_the_load_result() -> None:
    result = parse_summary(f"Running 2s test\n{SUMMARY}\nRequests/sec: 50\n", 100.0, 102.5)
    assert result.statuses == {"202": 100, "503": 5, "connect error": 3, "read error": 1}
    assert (result.accepted, result.submitted, result.timeouts) == (100, 109, 2)
    assert (result.answer.count, result.answer.p99, result.behind_seconds) == (105, 0.004581, 0.25)
    assert (result.started, result.ended) == (100.0, 102.5)
    with pytest.raises(RuntimeError, match="no summary"):
        parse_summary("unable to connect to 127.0.0.1:1\n", 0, 1)


def test_wrk_command_paces_each_thread_at_its_share() -> None:
    load = WrkLoad("http://h:1/", "key", 300, 15.4, 64, "Q", "bench-x-", 9, {"X-A": "b"}, 2)
    args = command("wrk", load, Path("/f"), Path("/p"))
    assert args[args.index("--") + 1 :] == ["/f", "Q", "bench-x-", "150.0", "/p"]
    assert {"--duration=15s", "http://h:1/applications"} <= set(args)
    assert {"--header=Authorization: Bearer key", "--header=X-A: b"} <= set(args)


def test_egov_records_are_valid_events_of_their_own() -> None:
    records = EgovRecords(seed=9, salt="K")
    made = [records.record(n) for n in range(30)]
    envelopes = [Envelope.from_headers(headers) for _, _, headers in made]
    forms = [ApplicationForm.model_validate_json(value) for value, _, _ in made]
    assert len({f.applicant.fin for f in forms}) == 30
    assert len({e.event_id for e in envelopes}) == 30
    assert all(
        key == str(e.application_id).encode()
        for (_, key, _), e in zip(made, envelopes, strict=True)
    )


def test_cpu_is_grouped_into_platform_harness_broker_and_postgresql() -> None:
    processes = {
        name: {"cpu_seconds": seconds}
        for name, seconds in [
            ("intake", 1.0),
            ("eligibility", 1.0),
            ("assignment", 1.0),
            ("notifications", 1.0),
            ("sinks", 0.3),
            ("load generator", 0.2),
            ("bench monitor", 5.0),
            ("kafka broker", 2.0),
            ("postgresql", 3.0),
        ]
    }
    cpu = cpu_per_application(processes, completed=1000)
    assert (cpu["platform"], cpu["harness"], cpu["broker"]) == (4.0, 0.5, 2.0)
    assert cpu["postgresql"] == 3.0
    assert cpu_per_application(processes, completed=0)["platform"] is None


def test_progress_line_says_time_counts_and_lag() -> None:
    line = progress_line(35.2, Tally(700, 690), {"intake": 0, "eligibility": 12})
    assert line == "bench: 35 s, submitted 700, accepted 690; lag intake 0 eligibility 12"
    assert progress_line(1, Tally(), None).endswith("lag not sampled yet")


class Intake(BaseHTTPRequestHandler):
    """Takes any POST with 202, remembering its headers and body."""

    protocol_version = "HTTP/1.1"
    seen: ClassVar[list[tuple[str | None, str | None, bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.seen.append((self.headers["Idempotency-Key"], self.headers["Authorization"], body))
        # One write: headers and body apart meet Nagle and a delayed ACK, 40 ms an answer.
        self.wfile.write(b"HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\n{}")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def intake() -> Iterator[str]:
    Intake.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Intake)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
def test_submit_lua_sends_valid_unique_forms_from_every_thread(intake: str, tmp_path: Path) -> None:
    templates = write_templates(tmp_path / "forms.jsonl", form_templates(seed=9, count=40))
    load = WrkLoad(intake, "secret", 100, 1, 4, "Q", "bench-t-", 9, {}, threads=2)
    done = subprocess.run(
        command("wrk", load, templates, tmp_path), capture_output=True, text=True, check=True
    )
    result = parse_summary(done.stdout, 0, 1)
    forms = [ApplicationForm.model_validate_json(body) for _, _, body in Intake.seen]
    keys = [key for key, _, _ in Intake.seen]
    assert 80 <= len(forms) <= 130  # paced at 100 a second for one second
    # wrk stops with up to one request per connection in flight: the server may have taken it
    # without wrk counting its answer.
    assert len(forms) - load.connections <= result.statuses["202"] <= len(forms)
    assert len({f.applicant.fin for f in forms}) == len(forms)
    assert {f.applicant.fin[1] for f in forms} == {"0", "1"}  # both threads sent
    assert len(set(keys)) == len(keys)
    assert {auth for _, auth, _ in Intake.seen} == {"Bearer secret"}
    assert sorted(p.name for p in tmp_path.glob("progress-*")) == ["progress-0", "progress-1"]


class Acknowledging:
    """A producer stand-in whose broker acknowledges every record at once."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes]] = []

    async def send(self, topic: str, value: bytes, **_: object) -> "asyncio.Future[None]":
        self.sent.append((topic, value))
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


async def test_kafka_load_sends_its_whole_schedule_in_chunks() -> None:
    producer, tally = Acknowledging(), Tally()
    result = await publish(producer, EgovRecords(seed=9, salt="K"), 200, 0.5, tally)
    assert dict(result.statuses) == {"published": 100}
    assert (tally.submitted, tally.accepted, result.answer.count) == (100, 100, 100)
    assert len({value for _, value in producer.sent}) == 100


def test_the_warm_up_submits_under_another_salt_than_the_run() -> None:
    for _ in range(200):
        token = uuid.uuid4().hex[:8]
        assert salt_of(other_token(token)) != salt_of(token)


@pytest.mark.parametrize("argv", [["--warm-up", "-1"], ["--duration", "0"]])
def test_the_bench_refuses_negative_warm_up_and_empty_runs(argv: list[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(argv)
