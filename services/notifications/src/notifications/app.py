"""Composition root of notifications: contacts and messages from events, the dispatcher, HTTP."""

import httpx
from fastapi import FastAPI

from notifications.channels import EmailGateway, SmsGateway
from notifications.dispatcher import NAME, Dispatcher
from notifications.messages import on_event
from notifications.store import TABLES
from socialsvc_common.contract import topics
from socialsvc_common.service import build_runtime, service_app
from socialsvc_common.settings import ServiceSettings, service_config

SOURCES = (
    topics.APPLICATION_RECEIVED,
    topics.DECISION_MADE,
    topics.PLACEMENT_MADE,
    topics.PLACEMENT_WAITLISTED,
)


class NotificationsSettings(ServiceSettings):
    model_config = service_config("NOTIFICATIONS_")

    http_port: int = 8003
    sms_gateway_url: str = "http://127.0.0.1:8090"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    email_sender: str = "xidmet@sosial.example.az"


def build_app(settings: NotificationsSettings | None = None) -> FastAPI:
    settings = settings or NotificationsSettings()
    runtime = build_runtime(NAME, settings, TABLES)
    for topic in SOURCES:
        runtime.consumer.handle(topic)(on_event)
    client = httpx.AsyncClient()
    dispatcher = Dispatcher(
        runtime.sessions,
        runtime.relay,
        SmsGateway(settings.sms_gateway_url, client),
        EmailGateway(settings.smtp_host, settings.smtp_port, settings.email_sender),
    )
    runtime.background.append(dispatcher.run)
    runtime.stopping.append(dispatcher.stop)
    runtime.on_stop.append(client.aclose)
    return service_app(runtime, title="Notifications", description="Tells citizens what happened.")
