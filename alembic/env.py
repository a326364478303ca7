"""Alembic environment: the house runtime does the work (see conventions.env)."""

from alembic import context

from app.models import Base
from conventions.env import run

run(context, Base.metadata)
