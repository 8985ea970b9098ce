"""The statistics service's tables and the history of their changes (socialsvc-db)."""

from pathlib import Path

from ministry_statistics.tables import MODELS
from socialsvc_common.migrations import Schema

SCHEMA = Schema("statistics", MODELS, Path(__file__).parent / "migrations")
