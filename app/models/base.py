"""The declarative base every model inherits, with the house naming convention."""

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from conventions.naming import NAMING_CONVENTION


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
