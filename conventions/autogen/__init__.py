"""Autogenerate that writes house migrations and sees changes of allowed values.

Importing this package registers, in Alembic's global registries (env.py's
``conventions.runtime.environment`` imports it for every Alembic command, and ``status``'s
drift check through :func:`conventions.reports.drift.load_comparators`; ``import conventions``
does not, so the models and read-only commands stay light):

- comparators (:mod:`~conventions.autogen.compare`) that compare a ``Choice`` column's
  allowed set and length with the live catalog, and turn Alembic's column and table
  operations for choice columns into the house ops;
- renderers (:mod:`~conventions.autogen.render`) that write ``op.add_choice_column``,
  ``op.alter_choices`` and ``op.drop_choice_column``;
- the safe way for model changes on existing tables (:mod:`~conventions.autogen.safe_way`,
  rendered by :mod:`~conventions.autogen.render_safe`): ``op.set_not_null``,
  ``op.change_column_type``, ``op.add_unique_constraint``;
- the post-write hook ``house_unused_imports`` (:mod:`~conventions.autogen.imports`).

:func:`refuse_enums` is the ``process_revision_directives`` step that keeps any
Enum type out of a written migration; ``conventions.runtime.environment`` chains it.
"""

from conventions.autogen import compare, imports, render, render_safe
from conventions.autogen.rewrite import chain, refuse_enums

__all__ = ["chain", "compare", "imports", "refuse_enums", "render", "render_safe"]
