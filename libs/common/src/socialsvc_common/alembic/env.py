"""Alembic's entry for every service's history; the work is in socialsvc_common.migrations."""

from alembic import context

from socialsvc_common.migrations import run_migrations

# alembic.context is a module that stands for the EnvironmentContext of the run.
run_migrations(context)  # type: ignore[arg-type]
