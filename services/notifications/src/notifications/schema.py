"""notifications' tables and the history of their changes (socialsvc-db)."""

from pathlib import Path

from notifications.store import TABLES
from socialsvc_common.migrations import Schema

SCHEMA = Schema("notifications", TABLES, Path(__file__).parent / "migrations")
