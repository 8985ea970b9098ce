"""compose_email: what a mail reader gets back from the bytes sent, in each language."""

from email import policy
from email.parser import BytesParser

import pytest

from notifications.channels import compose_email, message_id

SENDER = "noreply@sosial.gov.az"


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        (
            "Müraciətiniz qəbul edildi: ərizənizə baxılır, nəticə barədə sizə ayrıca xəbər "
            "veriləcək",
            "Hörmətli vətəndaş,\nmüraciətiniz qəbul edildi. İstinad: SP-2026-000123.\n",
        ),
        ("Ваше заявление принято", "Уважаемый гражданин,\nваше заявление принято.\n"),
        ("Your application was received", "Dear citizen,\nyour application was received.\n"),
    ],
)
def test_a_reader_gets_back_the_subject_body_and_addresses(subject: str, body: str) -> None:
    mail = compose_email(SENDER, "citizen@example.az", subject, body, "key-1")
    sent = mail.data

    assert max(len(line) for line in sent.split(b"\r\n")) <= 78  # RFC 5322's line length
    assert b"\n" not in sent.replace(b"\r\n", b"")  # CRLF lines only, as SMTP sends them
    assert sent.isascii()  # any relay takes it, 8BITMIME or not
    assert (mail.sender, mail.to) == (SENDER, "citizen@example.az")
    read = BytesParser(policy=policy.default).parsebytes(sent)
    assert str(read["Subject"]) == subject
    assert read["From"] == SENDER
    assert read["To"] == "citizen@example.az"
    assert read.get_content_type() == "text/plain"
    assert read.get_content_charset() == "utf-8"
    assert read.get_body(preferencelist=("plain",)).get_content() == body  # type: ignore[union-attr]
    assert read["Date"].datetime.tzinfo is not None
    assert read["Message-ID"] == mail.message_id
    assert not read.defects


def test_every_attempt_at_a_message_has_its_message_id() -> None:
    first = compose_email(SENDER, "a@example.az", "S", "B", "key-1")
    again = compose_email(SENDER, "a@example.az", "S", "B", "key-1")
    other = compose_email(SENDER, "a@example.az", "S", "B", "key-2")

    assert first.message_id == again.message_id == message_id("key-1", SENDER)
    assert other.message_id != first.message_id
    assert first.message_id.endswith("@sosial.gov.az>")
