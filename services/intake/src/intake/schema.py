"""intake's tables and the history of their changes (socialsvc-db)."""

from pathlib import Path

from intake.casework_store import CASEWORK_TABLES
from intake.offers import TABLES as OFFER_TABLES
from intake.store import TABLES
from socialsvc_common.migrations import Schema

SCHEMA = Schema(
    "intake", (*TABLES, *CASEWORK_TABLES, *OFFER_TABLES), Path(__file__).parent / "migrations"
)
