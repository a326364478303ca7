"""Alembic environment: the house runtime does the work (see conventions.environment)."""

from alembic import context

from app.models import Base
from conventions.environment import run

run(context, Base.metadata)
