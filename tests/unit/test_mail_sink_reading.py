"""The SMTP sink reads a mail's subject and plain text with the cheap compat32 parser: what it
keeps must be what the email package's default policy reads from the same bytes."""

from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest

from notifications.channels import compose_email
from notifications.sinks.smtp_sink import PARSER, plain_text, subject_of

SENDER = "xidmet@sosial.example.az"


def as_default_reads(raw: bytes) -> tuple[str, str]:
    mail = BytesParser(policy=policy.default).parsebytes(raw)
    part = mail.get_body(preferencelist=("plain",))
    body = part.get_content() if isinstance(part, EmailMessage) else ""
    return str(mail.get("Subject", "")), body


def as_sink_reads(raw: bytes) -> tuple[str, str]:
    mail = PARSER.parsebytes(raw)
    return subject_of(mail), plain_text(mail)


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        (
            "Qərar: sizə evdə sosial xidmət göstəriləcək; xidmətin başlanğıcı üçün sosial işçi "
            "sizinlə əlaqə saxlayacaq",
            "Hörmətli vətəndaş,\n\nmüraciətiniz qəbul edildi. İstinad: SP-2026-000123.\n",
        ),
        ("Ваше заявление принято — номер SP-2026-000123", "Здравствуйте!\nСтрока два.\n" * 40),
        ("Your application was received", "Dear citizen,\r\nyour application was received.\n"),
        ("Ə" * 120, ""),
    ],
)
def test_a_composed_mail_reads_the_same(subject: str, body: str) -> None:
    raw = compose_email(SENDER, "citizen@example.az", subject, body, "key-1").data

    assert as_sink_reads(raw) == as_default_reads(raw) == (subject, body)


def test_the_plain_part_of_a_mixed_mail_is_kept_and_an_attachment_is_not() -> None:
    mail = EmailMessage()
    mail["Subject"] = "Xəbər"
    mail.set_content("Mətn hissəsi: ş, ə, ı.\n")
    mail.add_alternative("<p>HTML</p>", subtype="html")
    mail.add_attachment("qoşma mətni\n", filename="note.txt")
    raw = mail.as_bytes()

    assert as_sink_reads(raw) == as_default_reads(raw) == ("Xəbər", "Mətn hissəsi: ş, ə, ı.\n")


def test_a_mail_without_plain_text_keeps_an_empty_body() -> None:
    mail = EmailMessage()
    mail["Subject"] = "Only HTML"
    mail.set_content("<p>HTML</p>", subtype="html")
    raw = mail.as_bytes()

    assert as_sink_reads(raw) == as_default_reads(raw) == ("Only HTML", "")
