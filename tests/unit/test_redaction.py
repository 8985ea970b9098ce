import json
import logging

import pytest

from socialsvc_common.logs import (
    REDACTED,
    RepeatFilter,
    configure_logging,
    redact_personal_data,
    redact_text,
)

FIN = "5ZJ8K2L"
PHONE = "+994501234567"
EMAIL = "leyla.aliyeva@example.az"


@pytest.mark.parametrize(
    "text",
    [
        f"applicant {FIN} applied",
        f"call {PHONE} tomorrow",
        "call +994 50 123 45 67 tomorrow",
        "call +994 (55) 123-45-67 tomorrow",
        f"write to {EMAIL}",
    ],
)
def test_free_text_loses_personal_data(text: str) -> None:
    redacted = redact_text(text)
    assert REDACTED in redacted
    for secret in (FIN, PHONE, EMAIL, "123 45 67", "123-45-67"):
        assert secret not in redacted


@pytest.mark.parametrize(
    "text",
    [
        "status PENDING",
        "application 3f0c9a4e-1b2c-4d5e-8f90-a1b2c3d4e5f6",
        "offset 1234567",
        "v1",
        "failed_at 2026-11-22T22:48:38.457379Z",
    ],
)
def test_ordinary_text_is_kept(text: str) -> None:
    assert redact_text(text) == text


def test_processor_masks_known_fields_and_nested_values() -> None:
    event = {
        "event": f"received application from {FIN}",
        "first_name": "Leyla",
        "applicant": {"last_name": "Əliyeva", "contacts": [PHONE, EMAIL], "district": "Xətai"},
        "timestamp": "2026-11-22T20:18:03.123456Z",
        "attempt": 2,
    }
    out = redact_personal_data(None, "info", event)
    assert out["event"] == f"received application from {REDACTED}"
    assert out["first_name"] == REDACTED
    assert out["applicant"]["last_name"] == REDACTED
    assert out["applicant"]["contacts"] == [REDACTED, REDACTED]
    assert out["applicant"]["district"] == "Xətai"
    assert out["timestamp"] == "2026-11-22T20:18:03.123456Z"
    assert out["attempt"] == 2


def test_rendered_lines_carry_no_personal_data(capsys: pytest.CaptureFixture[str]) -> None:
    # A library logger with a handler of its own, as FastStream's is, must not escape redaction.
    library = logging.getLogger("faststream.test")
    library.addHandler(logging.StreamHandler())
    library.propagate = False
    logger = configure_logging("test", json=True)
    logger.info("application stored", fin=FIN, note=f"phone {PHONE}, mail {EMAIL}")
    logging.getLogger("faststream.test").warning("library line about %s", FIN)
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [line["event"] for line in lines] == [
        "application stored",
        f"library line about {REDACTED}",
    ]
    rendered = json.dumps(lines)
    for secret in (FIN, PHONE, EMAIL):
        assert secret not in rendered


def test_a_library_warning_repeated_during_an_outage_shows_once_per_interval() -> None:
    shown = RepeatFilter(("aiokafka",), interval=10.0)

    def record(name: str, msg: str, at: float) -> logging.LogRecord:
        found = logging.LogRecord(name, logging.WARNING, __file__, 1, msg, ("1",), None)
        found.created = at
        return found

    unable = "Unable connect to node with id %s"
    flood = [record("aiokafka.conn", unable, t / 10) for t in range(50)]
    assert [shown.filter(r) for r in flood] == [True] + [False] * 49
    later = record("aiokafka.conn", unable, 12.0)
    assert shown.filter(later)
    assert later.__dict__["repeated_meanwhile"] == 49
    assert shown.filter(record("aiokafka.conn", "another warning %s", 12.5))
    assert all(shown.filter(record("intake", "step failed %s", 12.0 + n)) for n in range(3))
