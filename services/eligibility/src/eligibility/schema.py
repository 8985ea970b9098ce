"""eligibility's tables and the history of their changes (socialsvc-db)."""

from pathlib import Path

from eligibility.appeals.store import TABLES as APPEAL_TABLES
from eligibility.prescreens import PrescreenRow
from eligibility.store import TABLES
from socialsvc_common.migrations import Schema

SCHEMA = Schema(
    "eligibility", (*TABLES, *APPEAL_TABLES, PrescreenRow), Path(__file__).parent / "migrations"
)
