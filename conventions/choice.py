"""``Choice``: the house column type for enumerated values — VARCHAR(n) plus a named CHECK.

A PostgreSQL ENUM makes every change of the value set an ``ALTER TYPE`` (no removal,
no transaction before PG 12) and its rollback a type rebuild; a VARCHAR with a CHECK
changes by swapping one constraint. ``Choice`` keeps the ergonomics of an Enum in the
model: the values are declared once (a list or a Python ``enum.Enum``, storing member
*values*), the CHECK is attached and named ``ck_<table>_<column>`` by the metadata
naming convention, and an assignment outside the set fails in Python, naming the
column and the allowed values, before any SQL is sent.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable
from typing import Any

from sqlalchemy import CheckConstraint, String, event, type_coerce
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapper
from sqlalchemy.sql.elements import conv
from sqlalchemy.types import TypeDecorator

from conventions.db.sqltext import fit_name
from conventions.errors import InvalidChoices, ValueNotAllowed
from conventions.naming import NAMING_CONVENTION

__all__ = ["Choice", "check_values", "constraint_name", "default_length"]


def constraint_name(table_name: str, column_name: str) -> str:
    """Return the CHECK name a choice column gets: ``ck_<table>_<column>`` (≤ 63 chars)."""
    raw = NAMING_CONVENTION["ck"] % {"table_name": table_name, "constraint_name": column_name}
    return fit_name(raw)


def default_length(values: Iterable[str]) -> int:
    """Return the default VARCHAR length: the longest value rounded up to 10, at least 20.

    Headroom means the next, slightly longer value needs no column change; widening
    later is cheap anyway (metadata-only), so the rounding stays modest.
    """
    longest = max((len(v) for v in values), default=0)
    return max(20, math.ceil(longest / 10) * 10)


def check_values(
    values: Iterable[object], *, column: str | None = None, length: int | None = None
) -> tuple[str, ...]:
    """Return the values as a tuple of strings, or raise InvalidChoices saying what is wrong.

    Shared by the model type and the migration ops, so a set the model accepts is
    exactly a set the ops accept.
    """
    if isinstance(values, str):
        raise InvalidChoices(
            f"Choices for {column or 'a choice column'} must be a list of strings, "
            f"not the single string {values!r}.",
            column=column,
            values=(values,),
        )
    items = tuple(values)
    where = f" for {column}" if column else ""
    if not items:
        raise InvalidChoices(
            f"No choices given{where}: list at least one value.", column=column, values=items
        )
    strings = tuple(v for v in items if isinstance(v, str))
    if len(strings) != len(items):
        bad = [v for v in items if not isinstance(v, str)]
        raise InvalidChoices(
            f"Choices{where} must be strings; got {', '.join(repr(v) for v in bad)}.",
            column=column,
            values=items,
        )
    nul = [v for v in strings if "\x00" in v]
    if nul:
        raise InvalidChoices(
            f"Choices{where} cannot contain NUL characters (PostgreSQL text cannot hold them): "
            f"{', '.join(repr(v) for v in nul)}.",
            column=column,
            values=strings,
        )
    duplicates = sorted({v for v in strings if strings.count(v) > 1})
    if duplicates:
        raise InvalidChoices(
            f"Duplicate choices{where}: {', '.join(repr(v) for v in duplicates)}.",
            column=column,
            values=strings,
        )
    if length is not None:
        too_long = [v for v in strings if len(v) > length]
        if too_long:
            raise InvalidChoices(
                f"Choices{where} longer than the column (VARCHAR({length})): "
                f"{', '.join(repr(v) for v in too_long)}; pass a larger length=.",
                column=column,
                values=strings,
            )
    return strings


class Choice(TypeDecorator[Any]):
    """A VARCHAR limited to ``values`` by a CHECK named ``ck_<table>_<column>``.

    ``Choice(["draft", "sent"])`` stores and loads strings; ``Choice(MyEnum)`` stores
    each member's ``.value`` and loads members back. ``length`` defaults to
    :func:`default_length`. Never a native ENUM, on any dialect.
    """

    impl = String
    cache_ok = True

    def __init__(
        self, values: Iterable[str] | type[enum.Enum], *, length: int | None = None
    ) -> None:
        enum_class: type[enum.Enum] | None = None
        if isinstance(values, type) and issubclass(values, enum.Enum):
            enum_class = values
            raw: Iterable[object] = [member.value for member in values]
        else:
            raw = values
        checked = check_values(raw)
        if length is None:
            length = default_length(checked)
        check_values(checked, length=length)
        super().__init__(length=length)
        self.values: tuple[str, ...] = checked
        self.length: int = length
        self.enum_class = enum_class

    def __repr__(self) -> str:
        return f"Choice({list(self.values)!r}, length={self.length})"

    @property
    def python_type(self) -> type:
        return self.enum_class or str

    # SQLAlchemy builds the statement cache key from attributes named like the
    # constructor's arguments: ``values`` (a tuple) and ``length`` are hashable.
    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if isinstance(value, enum.Enum):
            return value.value
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None or self.enum_class is None:
            return value
        return self.enum_class(value)

    def coerce(self, value: Any, *, column: str) -> Any:
        """Return ``value`` as it is stored in Python (an enum member or a string), or raise."""
        if value is None:
            return None
        if self.enum_class is not None:
            if isinstance(value, self.enum_class):
                return value
            if isinstance(value, str) and value in self.values:
                return self.enum_class(value)
        elif isinstance(value, str) and value in self.values:
            return value
        raise ValueNotAllowed(column=column, value=value, allowed=self.values)

    # TypeDecorator is a SchemaEventTarget: Column calls this when given the type.
    # Once the column is on a table, attach the CHECK (as SQLAlchemy's Enum does).
    def _set_parent(self, parent: Any, outer: bool = False, **kw: Any) -> None:
        super()._set_parent(parent, outer=outer, **kw)
        parent._on_table_attach(self._attach_check)

    def _attach_check(self, column: Any, table: Any) -> None:
        conventions = table.metadata.naming_convention or {}
        name = (
            column.name if "ck" in conventions else conv(constraint_name(table.name, column.name))
        )
        CheckConstraint(
            type_coerce(column, String()).in_(self.values),
            name=name,
            _type_bound=True,
        )


@event.listens_for(Mapper, "mapper_configured")
def _validate_on_assignment(mapper: Mapper[Any], class_: type) -> None:
    """Give every mapped ``Choice`` attribute a ``set`` listener that checks the value."""
    for prop in mapper.column_attrs:
        if len(prop.columns) != 1:
            continue
        col = prop.columns[0]
        if not isinstance(col.type, Choice) or col.table is None:
            continue
        label = f"{col.table.description}.{col.name}"  # a Table's description is its name
        choice = col.type

        def check(
            target: Any,
            value: Any,
            oldvalue: Any,
            initiator: Any,
            *,
            _choice: Choice = choice,
            _label: str = label,
        ) -> Any:
            return _choice.coerce(value, column=_label)

        event.listen(getattr(class_, prop.key), "set", check, retval=True)
