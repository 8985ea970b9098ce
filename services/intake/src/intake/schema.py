"""intake's tables and the history of their changes (socialsvc-db)."""

from pathlib import Path

from intake.store import TABLES
from socialsvc_common.migrations import Schema

SCHEMA = Schema("intake", TABLES, Path(__file__).parent / "migrations")
