"""Local stand-ins for the SMS provider, the e-gov inbox and the mail relay, so a person can read
what citizens would receive. `python -m notifications.sinks` runs all three; tests start them
in-process."""

from notifications.sinks.http_gateway import create_inbox_gateway, create_sms_gateway
from notifications.sinks.receipts import ReceiptSender
from notifications.sinks.smtp_sink import MailSink, start_smtp_sink, stop_smtp_sink

__all__ = [
    "MailSink",
    "ReceiptSender",
    "create_inbox_gateway",
    "create_sms_gateway",
    "start_smtp_sink",
    "stop_smtp_sink",
]
