"""assignment's tables and the history of their changes (socialsvc-db)."""

from pathlib import Path

from assignment.deliveries import ServiceDeliveryRow
from assignment.providers import ProviderRow
from assignment.review_store import ReviewRow
from assignment.store import TABLES
from socialsvc_common.migrations import Schema

SCHEMA = Schema(
    "assignment",
    (*TABLES, ProviderRow, ReviewRow, ServiceDeliveryRow),
    Path(__file__).parent / "migrations",
)
