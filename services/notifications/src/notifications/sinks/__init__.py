"""Local stand-ins for the SMS provider and the mail relay, so a person can read what citizens
would receive. `python -m notifications.sinks` runs both; tests start them in-process."""

from notifications.sinks.sms_gateway import create_sms_gateway
from notifications.sinks.smtp_sink import MailSink, start_smtp_sink, stop_smtp_sink

__all__ = ["MailSink", "create_sms_gateway", "start_smtp_sink", "stop_smtp_sink"]
