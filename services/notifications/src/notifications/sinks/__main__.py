"""`python -m notifications.sinks`: the local SMS gateway, e-gov inbox and SMTP sink, until SIGINT
or SIGTERM.

All listen on 127.0.0.1 only, or on the one address --host gives, and write what they receive
under var/sinks/ (sms.jsonl, inbox.jsonl, mail.jsonl), so a person can read what citizens would
get. With a receipts URL the HTTP gateways report delivery by signed callbacks (secret
NOTIFICATIONS_RECEIPT_SECRET, the service's default in development). Options fall back to the
environment: NOTIFICATIONS_SINK_HOST (127.0.0.1), NOTIFICATIONS_SINK_SMS_PORT (8090),
NOTIFICATIONS_SINK_INBOX_PORT (8091), NOTIFICATIONS_SINK_SMTP_PORT (8025), NOTIFICATIONS_SINK_DIR,
NOTIFICATIONS_SINK_RECEIPTS_URL (none).
"""

import argparse
import asyncio
import ipaddress
import logging
import os
import signal
import socket
import sys
from pathlib import Path
from types import FrameType

import structlog
import uvicorn
from fastapi import FastAPI

from notifications.signing import DEVELOPMENT_RECEIPT_SECRET
from notifications.sinks.http_gateway import create_inbox_gateway, create_sms_gateway
from notifications.sinks.receipts import ReceiptSender
from notifications.sinks.smtp_sink import LOOPBACK, start_smtp_sink, stop_smtp_sink
from socialsvc_common.logs import configure_logging

NAME = "notifications-sinks"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    env = os.environ
    parser = argparse.ArgumentParser(prog="python -m notifications.sinks", description=__doc__)
    parser.add_argument(
        "--host",
        type=_address,
        default=env.get("NOTIFICATIONS_SINK_HOST", LOOPBACK),
        help="the IP address all three listen on",
    )
    parser.add_argument(
        "--sms-port", type=int, default=int(env.get("NOTIFICATIONS_SINK_SMS_PORT", "8090"))
    )
    parser.add_argument(
        "--inbox-port", type=int, default=int(env.get("NOTIFICATIONS_SINK_INBOX_PORT", "8091"))
    )
    parser.add_argument(
        "--smtp-port", type=int, default=int(env.get("NOTIFICATIONS_SINK_SMTP_PORT", "8025"))
    )
    parser.add_argument(
        "--receipts-url",
        default=env.get("NOTIFICATIONS_SINK_RECEIPTS_URL"),
        help="the platform's receipt callback, e.g. http://127.0.0.1:8003/receipts",
    )
    parser.add_argument(
        "--store-dir", type=Path, default=Path(env.get("NOTIFICATIONS_SINK_DIR", "var/sinks"))
    )
    return parser.parse_args(argv)


def _address(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an IP address") from None


def _listen(host: str, port: int) -> socket.socket:
    # Bound here rather than by uvicorn, so a busy port fails before anything else has started;
    # listening at once, so clients queue in the backlog until uvicorn takes the socket over.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen()
    return sock


def _stop_on_signals(servers: list[uvicorn.Server]) -> None:
    # uvicorn captures SIGINT/SIGTERM while it serves, then restores these handlers and raises the
    # signal again; ours only asks for the exit, so the process can still close the SMTP sink.
    def stop(_signum: int, _frame: FrameType | None) -> None:
        for server in servers:
            server.should_exit = True

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, stop)


def _receipts(url: str | None) -> ReceiptSender | None:
    if not url:
        return None
    secret = os.environ.get("NOTIFICATIONS_RECEIPT_SECRET", DEVELOPMENT_RECEIPT_SECRET)
    return ReceiptSender(url, secret.encode())


def _server(app: FastAPI) -> uvicorn.Server:
    config = uvicorn.Config(
        app,
        log_config=None,  # keep the platform's logging (JSON, redaction)
        access_log=False,
        lifespan="off",
    )
    return uvicorn.Server(config)


async def serve(args: argparse.Namespace, log: structlog.stdlib.BoundLogger) -> None:
    store_dir: Path = args.store_dir
    sockets = [_listen(args.host, args.sms_port), _listen(args.host, args.inbox_port)]
    receipts = _receipts(args.receipts_url)
    servers = [
        _server(create_sms_gateway(store_dir / "sms.jsonl", receipts)),
        _server(create_inbox_gateway(store_dir / "inbox.jsonl", receipts)),
    ]
    _stop_on_signals(servers)
    controller = await asyncio.to_thread(
        start_smtp_sink, store_dir / "mail.jsonl", args.smtp_port, args.host
    )
    try:
        log.info(
            "started",
            service=NAME,
            sms_gateway=f"http://{args.host}:{args.sms_port}/messages",
            inbox_gateway=f"http://{args.host}:{args.inbox_port}/messages",
            smtp=f"{args.host}:{args.smtp_port}",
            receipts=args.receipts_url or "none: gateways answer delivered",
            store=str(store_dir),
        )
        await asyncio.gather(
            *(server.serve(sockets=[sock]) for server, sock in zip(servers, sockets, strict=True))
        )
    finally:
        if receipts is not None:
            await receipts.close()
        stop_smtp_sink(controller)
        for sock in sockets:
            sock.close()
        log.info("stopped", service=NAME)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    log = configure_logging(NAME)
    # aiosmtpd reports every connection and envelope address at INFO; the sink logs each mail.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    try:
        args.store_dir.mkdir(parents=True, exist_ok=True)
        asyncio.run(serve(args, log))
    except OSError as exc:  # a port in use, an unwritable store directory
        log.error("cannot start", error=str(exc))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
