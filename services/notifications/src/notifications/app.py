"""Composition root of notifications: contacts and messages from events, the dispatcher, HTTP."""

from datetime import timedelta
from functools import partial

import httpx
from fastapi import FastAPI
from pydantic import Field, SecretStr, field_validator, model_validator

from notifications.breaker import CircuitBreaker
from notifications.channels import EmailGateway, InboxGateway, SmsGateway
from notifications.dispatcher import CONCURRENCY, NAME, Dispatcher, Gateways
from notifications.erasure import holdings, on_subjects_erased
from notifications.gauges import GatewayGauges
from notifications.messages import on_events, on_withdrawals
from notifications.messages_api import messages_router
from notifications.offer_reminders import DEFAULT_LEAD
from notifications.quiet_hours import QuietHours
from notifications.receipts import receipts_router
from notifications.schema import SCHEMA
from notifications.signing import DEVELOPMENT_RECEIPT_SECRET
from notifications.store import messages_rule
from notifications.templates import MessageKind
from socialsvc_common.auth import ApiSettings, install_api_keys
from socialsvc_common.contract import topics
from socialsvc_common.contract.payloads import Email
from socialsvc_common.problems import install_problem_handlers
from socialsvc_common.service import build_runtime, service_app
from socialsvc_common.settings import Environment, service_config
from socialsvc_common.subject_access import holdings_router

SOURCES = (
    topics.APPLICATION_RECEIVED,
    topics.INFORMATION_REMINDED,
    topics.APPLICATION_EXPIRED,
    topics.DECISION_MADE,
    topics.PLACEMENT_MADE,
    topics.PLACEMENT_WAITLISTED,
    topics.APPEAL_LODGED,
    topics.APPEAL_DECIDED,
    topics.REVIEW_DUE,
    topics.REVIEW_CONCLUDED,
    topics.PLACEMENT_UPDATED,
    topics.PLACEMENT_REFUSED,
    topics.PLACEMENT_RELEASED,
    topics.OFFER_MADE,
)


class NotificationsSettings(ApiSettings):
    model_config = service_config("NOTIFICATIONS_")

    http_port: int = 8003
    sms_gateway_url: str = "http://127.0.0.1:8090"
    inbox_gateway_url: str = "http://127.0.0.1:8091"
    # Whether a gateway takes many messages to a request (POST /messages/batch); false sends one
    # request a message, for a provider without the batch endpoint.
    sms_gateway_batch: bool = True
    inbox_gateway_batch: bool = True
    receipt_secret: SecretStr = Field(
        default=SecretStr(DEVELOPMENT_RECEIPT_SECRET),
        min_length=16,
        description="the gateways sign their delivery receipts with it (HMAC-SHA256)",
    )
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    # A bare ASCII address (the contract's pattern): it is the From header as it stands.
    email_sender: Email = "xidmet@sosial.example.az"
    # Policy parameters: no non-urgent SMS at night (Asia/Baku); "off" disables.
    quiet_hours: str = "22:00-08:00"
    urgent_kinds: frozenset[MessageKind] = frozenset({MessageKind.PLACEMENT_MADE})
    # A gateway that failed this many times running is left alone for the cooldown.
    breaker_failures: int = Field(default=5, ge=1, le=100)
    breaker_cooldown_seconds: float = Field(default=30.0, gt=0, le=3600)
    # Policy parameter: how long before an offer lapses the person is reminded to answer it.
    offer_reminder_days: float = Field(
        default=DEFAULT_LEAD / timedelta(days=1),
        gt=0,
        le=365,
        description="days before an offer lapses that the person is reminded to answer it",
    )
    messages_keep_days: float = Field(
        default=90.0, gt=0, description="days a message that ended is kept, text and all"
    )

    @field_validator("quiet_hours")
    @classmethod
    def _readable_quiet_hours(cls, value: str) -> str:
        QuietHours.parse(value)
        return value

    @model_validator(mode="after")
    def _real_secret_in_production(self) -> "NotificationsSettings":
        secret = self.receipt_secret.get_secret_value()
        if self.environment is Environment.PRODUCTION and secret == DEVELOPMENT_RECEIPT_SECRET:
            raise ValueError("production needs its own NOTIFICATIONS_RECEIPT_SECRET")
        return self


def build_app(settings: NotificationsSettings | None = None) -> FastAPI:
    settings = settings or NotificationsSettings()
    runtime = build_runtime(NAME, settings, SCHEMA, publishes=topics.NOTIFICATION_TOPICS)
    # One handler for every source, so a poll's events of all of them are stored by one call:
    # the consumer calls each distinct handler once per batch, and one per topic would make
    # each of its statements once per topic in the batch.
    messages = partial(on_events, offer_reminder=timedelta(days=settings.offer_reminder_days))
    for topic in SOURCES:
        runtime.consumer.handle(topic)(messages)
    runtime.consumer.handle(topics.SUBJECT_ERASED)(on_subjects_erased)
    runtime.consumer.handle(topics.CONSENT_WITHDRAWN)(on_withdrawals)
    # As many kept-alive connections as messages in flight, so none is opened per message.
    client = httpx.AsyncClient(limits=httpx.Limits(max_keepalive_connections=CONCURRENCY))
    email = EmailGateway(settings.smtp_host, settings.smtp_port, settings.email_sender)
    gateways = Gateways(
        sms=SmsGateway(settings.sms_gateway_url, client, batch=settings.sms_gateway_batch),
        email=email,
        inbox=InboxGateway(settings.inbox_gateway_url, client, batch=settings.inbox_gateway_batch),
    )
    dispatcher = Dispatcher(
        runtime.sessions,
        runtime.relay,
        gateways,
        quiet_hours=QuietHours.parse(settings.quiet_hours),
        urgent_kinds=frozenset(kind.value for kind in settings.urgent_kinds),
        breaker=lambda: CircuitBreaker(
            settings.breaker_failures, timedelta(seconds=settings.breaker_cooldown_seconds)
        ),
    )
    # New messages are sent at once; the dispatcher's own polling is for retries and holds.
    runtime.consumer.wake_after_commit(dispatcher.wake)
    runtime.background.append(dispatcher.run)
    runtime.on_scrape.append(GatewayGauges(runtime.metrics, runtime.sessions, dispatcher).read)
    runtime.stopping.append(dispatcher.stop)
    runtime.retention.append(messages_rule(timedelta(days=settings.messages_keep_days)))
    runtime.on_stop.append(client.aclose)
    runtime.on_stop.append(email.close)
    app = service_app(
        runtime,
        title="Notifications",
        description="Tells citizens what happened.",
        unlimited_paths=frozenset({"/receipts"}),  # signed; a gateway sends one a message
    )
    install_problem_handlers(app)
    install_api_keys(app, settings.key_store())
    app.include_router(holdings_router(runtime, holdings))
    secret = settings.receipt_secret.get_secret_value().encode()
    app.include_router(receipts_router(runtime.sessions, runtime.relay, secret))
    app.include_router(messages_router(runtime.sessions))
    return app
