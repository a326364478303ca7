"""A foreign-shaped Alembic project, written into a temporary directory for adoption tests.

Shaped like the real ones adoption failed on (issue 16), in our own words: a
``migrations/`` directory with two version locations and a file_template of its own,
an app factory whose context must be pushed before the models import (a
Flask-SQLAlchemy-style ``db`` object, a ``current_app`` proxy), revisions that read the
app's config at import, legacy native ENUMs in old revisions and in the models, a
view mapped as a table that ``include_object`` excludes, a data migration that an
arbitrary generated row breaks, and a migration that builds its own engine from
``sqlalchemy.url``. The app prints on stdout while it starts, as apps do.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from conventions.harness.alembic_ini import logging_sections

FILES: dict[str, str] = {
    "pyproject.toml": """
        [project]
        name = "shopfront"
        version = "0.1.0"
        requires-python = ">=3.11"
    """,
    "README.md": """
        # shopfront
    """,
    # The app talks on stdout while it starts; so does Alembic's log here.
    "alembic.ini": textwrap.dedent("""
        [alembic]
        script_location = %(here)s/migrations
        version_locations = %(here)s/migrations/legacy %(here)s/migrations/versions
        path_separator = space
        prepend_sys_path = .
        file_template = %%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s
        # `alembic init`'s placeholder: env.py sets the URL from the app's config.
        sqlalchemy.url = driver://user:pass@localhost/dbname

    """)
    + logging_sections("stdout"),
    "shopfront/__init__.py": """
        import os

        from shopfront.appctx import App


        def create_app() -> App:
            print("shopfront: creating the app")  # apps talk on stdout while they start
            url = os.environ.get("SHOPFRONT_DATABASE_URL", "sqlite:///shopfront-dev.db")
            return App({"SQLALCHEMY_DATABASE_URI": url, "CODE_LENGTH": 12})
    """,
    "shopfront/appctx.py": """
        \"\"\"An application object and a context-local proxy, shaped like Flask's.\"\"\"

        import contextlib

        _stack: list["App"] = []


        class App:
            def __init__(self, config: dict) -> None:
                self.config = config

            @contextlib.contextmanager
            def app_context(self):
                _stack.append(self)
                try:
                    yield self
                finally:
                    _stack.pop()

            def push(self) -> None:
                _stack.append(self)


        class LocalProxy:
            \"\"\"Every attribute access needs a pushed app, like flask.current_app.\"\"\"

            def _get_current_object(self) -> App:
                if not _stack:
                    raise RuntimeError("Working outside of application context.")
                return _stack[-1]

            def __getattr__(self, name: str):
                return getattr(self._get_current_object(), name)


        current_app = LocalProxy()
    """,
    "shopfront/extensions.py": """
        \"\"\"A db object shaped like Flask-SQLAlchemy's: db.Model, db.metadata.\"\"\"

        from sqlalchemy import MetaData
        from sqlalchemy.orm import DeclarativeBase

        NAMING = {
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }


        class SQLAlchemy:
            def __init__(self) -> None:
                class Model(DeclarativeBase):
                    metadata = MetaData(naming_convention=NAMING)

                self.Model = Model

            @property
            def metadata(self) -> MetaData:
                return self.Model.metadata


        db = SQLAlchemy()
    """,
    "shopfront/models.py": """
        import sqlalchemy as sa

        from shopfront.appctx import current_app
        from shopfront.extensions import db

        CODE_LENGTH = current_app.config["CODE_LENGTH"]  # needs the app pushed
        SERVICE_STATE = sa.Enum("active", "retired", name="service_state")


        class Service(db.Model):
            __tablename__ = "services"
            id = sa.Column(sa.Integer, primary_key=True)
            code = sa.Column(sa.String(CODE_LENGTH), nullable=False)
            state = sa.Column(SERVICE_STATE, nullable=False, server_default="active")


        class Order(db.Model):
            __tablename__ = "orders"
            id = sa.Column(sa.Integer, primary_key=True)
            service_id = sa.Column(
                sa.Integer, sa.ForeignKey("services.id"), nullable=False, index=True
            )
            amount = sa.Column(sa.Numeric(10, 2), nullable=False, server_default=sa.text("0"))


        # A view, mapped read-only; env.py's include_object keeps it out of autogenerate.
        service_report = sa.Table(
            "service_report",
            db.metadata,
            sa.Column("code", sa.String(CODE_LENGTH)),
            sa.Column("state", SERVICE_STATE),
        )
    """,
    "tests/conftest.py": """
        # Revisions read current_app at import, and pytest imports them while collecting
        # (the harness lists revisions then): an app is pushed before that.
        from shopfront import create_app

        create_app().push()
    """,
    "migrations/script.py.mako": '''
        """${message}

        Revision ID: ${up_revision}
        Revises: ${down_revision | comma,n}
        Create Date: ${create_date}
        """
        from alembic import op
        import sqlalchemy as sa
        ${imports if imports else ""}

        revision = ${repr(up_revision)}
        down_revision = ${repr(down_revision)}
        branch_labels = ${repr(branch_labels)}
        depends_on = ${repr(depends_on)}


        def upgrade():
            ${upgrades if upgrades else "pass"}


        def downgrade():
            ${downgrades if downgrades else "pass"}
    ''',
    "migrations/env.py": """
        from logging.config import fileConfig

        from alembic import context
        from sqlalchemy import engine_from_config, pool

        from shopfront import create_app

        config = context.config
        if config.config_file_name is not None:
            fileConfig(config.config_file_name)

        app = create_app()
        app.push()  # the models and some revisions read current_app at import
        config.set_main_option(
            "sqlalchemy.url", app.config["SQLALCHEMY_DATABASE_URI"].replace("%", "%%")
        )

        from shopfront.extensions import db  # noqa: E402
        import shopfront.models  # noqa: E402,F401

        target_metadata = db.metadata

        VIEWS = {"service_report"}


        def include_object(obj, name, type_, reflected, compare_to):
            return not (type_ == "table" and name in VIEWS)


        def run_migrations_offline():
            url = config.get_main_option("sqlalchemy.url")
            context.configure(
                url=url,
                target_metadata=target_metadata,
                literal_binds=True,
                include_object=include_object,
            )
            with context.begin_transaction():
                context.run_migrations()


        def run_migrations_online():
            connectable = engine_from_config(
                config.get_section(config.config_ini_section, {}),
                prefix="sqlalchemy.",
                poolclass=pool.NullPool,
            )
            with connectable.connect() as connection:
                context.configure(
                    connection=connection,
                    target_metadata=target_metadata,
                    include_object=include_object,
                    compare_type=True,
                )
                with context.begin_transaction():
                    context.run_migrations()


        if context.is_offline_mode():
            run_migrations_offline()
        else:
            run_migrations_online()
    """,
    "migrations/legacy/0001_create_services.py": '''
        """create services (legacy: a native ENUM, the length from the app's config)"""
        from alembic import op
        import sqlalchemy as sa
        from sqlalchemy.dialects import postgresql

        from shopfront.appctx import current_app

        revision = "a1f0c0de0001"
        down_revision = None
        branch_labels = None
        depends_on = None

        LENGTH = current_app.config["CODE_LENGTH"]


        def upgrade():
            state = postgresql.ENUM("active", "retired", name="service_state")
            state.create(op.get_bind())
            op.create_table(
                "services",
                sa.Column("id", sa.Integer, primary_key=True),
                sa.Column("code", sa.String(LENGTH), nullable=False),
                sa.Column(
                    "state",
                    postgresql.ENUM(name="service_state", create_type=False),
                    nullable=False,
                    server_default="active",
                ),
                sa.PrimaryKeyConstraint("id", name="pk_services"),
            )


        def downgrade():
            op.drop_table("services")
            op.execute("DROP TYPE service_state")
    ''',
    "migrations/legacy/0002_create_orders_and_report.py": '''
        """orders, and a report view"""
        from alembic import op
        import sqlalchemy as sa

        revision = "a1f0c0de0002"
        down_revision = "a1f0c0de0001"
        branch_labels = None
        depends_on = None


        def upgrade():
            op.create_table(
                "orders",
                sa.Column("id", sa.Integer, primary_key=True),
                sa.Column("service_id", sa.Integer, nullable=False),
                sa.Column("amount", sa.Numeric(10, 2), nullable=False, server_default=sa.text("0")),
                sa.PrimaryKeyConstraint("id", name="pk_orders"),
                sa.ForeignKeyConstraint(
                    ["service_id"], ["services.id"], name="fk_orders_service_id_services"
                ),
            )
            op.execute("CREATE VIEW service_report AS SELECT code, state FROM services")


        def downgrade():
            op.execute("DROP VIEW service_report")
            op.drop_table("orders")
    ''',
    "migrations/versions/0003_uppercase_codes.py": '''
        """data migration: codes are upper case letters and digits from now on"""
        from alembic import op

        revision = "b2e0c0de0003"
        down_revision = "a1f0c0de0002"
        branch_labels = None
        depends_on = None


        def upgrade():
            op.execute("UPDATE services SET code = upper(code)")
            op.create_check_constraint("code_format", "services", "code ~ '^[A-Z0-9-]+$'")


        def downgrade():
            op.drop_constraint(op.f("ck_services_code_format"), "services", type_="check")
    ''',
    "migrations/versions/0004_engine_from_config.py": '''
        """a migration that builds its own engine from sqlalchemy.url"""
        from alembic import context, op
        from sqlalchemy import engine_from_config, pool, text

        revision = "b2e0c0de0004"
        down_revision = "b2e0c0de0003"
        branch_labels = None
        depends_on = None


        def upgrade():
            config = context.config
            engine = engine_from_config(
                config.get_section(config.config_ini_section, {}),
                prefix="sqlalchemy.",
                poolclass=pool.NullPool,
            )
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            engine.dispose()
            op.create_index("ix_orders_service_id", "orders", ["service_id"])


        def downgrade():
            op.drop_index("ix_orders_service_id", table_name="orders")
    ''',
}


def build(dest: Path) -> Path:
    """Write the project under ``dest`` and return ``dest``."""
    for name, text in FILES.items():
        path = dest / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return dest
