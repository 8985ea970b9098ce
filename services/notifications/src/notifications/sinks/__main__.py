"""`python -m notifications.sinks`: the local SMS gateway and SMTP sink, until SIGINT or SIGTERM.

Both listen on 127.0.0.1 only and write what they receive under var/sinks/ (sms.jsonl,
mail.jsonl), so a person can read what citizens would get. Options fall back to the environment:
NOTIFICATIONS_SINK_SMS_PORT (8090), NOTIFICATIONS_SINK_SMTP_PORT (8025), NOTIFICATIONS_SINK_DIR.
"""

import argparse
import asyncio
import logging
import os
import signal
import socket
import sys
from pathlib import Path
from types import FrameType

import structlog
import uvicorn

from notifications.sinks.sms_gateway import create_sms_gateway
from notifications.sinks.smtp_sink import LOOPBACK, start_smtp_sink, stop_smtp_sink
from socialsvc_common.logs import configure_logging

NAME = "notifications-sinks"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    env = os.environ
    parser = argparse.ArgumentParser(prog="python -m notifications.sinks", description=__doc__)
    parser.add_argument(
        "--sms-port", type=int, default=int(env.get("NOTIFICATIONS_SINK_SMS_PORT", "8090"))
    )
    parser.add_argument(
        "--smtp-port", type=int, default=int(env.get("NOTIFICATIONS_SINK_SMTP_PORT", "8025"))
    )
    parser.add_argument(
        "--store-dir", type=Path, default=Path(env.get("NOTIFICATIONS_SINK_DIR", "var/sinks"))
    )
    return parser.parse_args(argv)


def _listen(port: int) -> socket.socket:
    # Bound here rather than by uvicorn, so a busy port fails before anything else has started;
    # listening at once, so clients queue in the backlog until uvicorn takes the socket over.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((LOOPBACK, port))
    sock.listen()
    return sock


def _stop_on_signals(server: uvicorn.Server) -> None:
    # uvicorn captures SIGINT/SIGTERM while it serves, then restores these handlers and raises the
    # signal again; ours only asks for the exit, so the process can still close the SMTP sink.
    def stop(_signum: int, _frame: FrameType | None) -> None:
        server.should_exit = True

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, stop)


async def serve(args: argparse.Namespace, log: structlog.stdlib.BoundLogger) -> None:
    store_dir: Path = args.store_dir
    sock = _listen(args.sms_port)
    config = uvicorn.Config(
        create_sms_gateway(store_dir / "sms.jsonl"),
        log_config=None,  # keep the platform's logging (JSON, redaction)
        access_log=False,
        lifespan="off",
    )
    server = uvicorn.Server(config)
    _stop_on_signals(server)
    controller = await asyncio.to_thread(start_smtp_sink, store_dir / "mail.jsonl", args.smtp_port)
    try:
        log.info(
            "started",
            service=NAME,
            sms_gateway=f"http://{LOOPBACK}:{args.sms_port}/messages",
            smtp=f"{LOOPBACK}:{args.smtp_port}",
            sms_store=str(store_dir / "sms.jsonl"),
            mail_store=str(store_dir / "mail.jsonl"),
        )
        await server.serve(sockets=[sock])
    finally:
        stop_smtp_sink(controller)
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
