"""A scratch database holding a ``notification_campaigns`` table of N rows.

The table is created by hand rather than by running the project's migrations so the
fill can load rows first and build keys, indexes and constraints afterwards (five
million rows in well under a minute); its shape mirrors the model and the sample
revisions. The database is dropped at the end, even after a failure.
"""

from __future__ import annotations

import time
from typing import Any

from psycopg2 import sql
from sqlalchemy import create_engine
from sqlalchemy.engine import URL, Engine
from sqlalchemy.pool import NullPool

from app.models.notification_campaigns import CAMPAIGN_STATUSES, CAMPAIGN_TYPES
from conventions.harness import scratch

TABLE = "notification_campaigns"
SEGMENTS = 1000
SETTINGS = (
    "shared_buffers",
    "work_mem",
    "maintenance_work_mem",
    "max_parallel_maintenance_workers",
    "max_wal_size",
    "fsync",
    "synchronous_commit",
    "lock_timeout",
)


def connect(url: URL, *, autocommit: bool = True, name: str = "bench") -> Any:
    """Open a psycopg2 connection named ``name`` in pg_stat_activity (the lock watcher's key)."""
    return scratch.connect(url, autocommit=autocommit, application=name)


def engine(url: URL) -> Engine:
    return create_engine(url, poolclass=NullPool)


def _in(column: str, values: tuple[str, ...]) -> sql.Composable:
    return sql.SQL("{} IN ({})").format(
        sql.Identifier(column), sql.SQL(", ").join(sql.Literal(v) for v in values)
    )


def fill(url: URL, rows: int) -> float:
    """Create and load the table; return the seconds it took (reported, not a target)."""
    started = time.perf_counter()
    conn = connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SET maintenance_work_mem = '256MB'")  # set-up only; the runs use defaults
            cur.execute(
                """
                CREATE TABLE customer_segments (
                    id bigserial PRIMARY KEY,
                    name varchar(100) NOT NULL UNIQUE,
                    description text,
                    created_at timestamptz NOT NULL DEFAULT now(),
                    last_notification_sent_at timestamptz
                )
                """
            )
            cur.execute(
                "INSERT INTO customer_segments (id, name) "
                "SELECT g, 'segment ' || g FROM generate_series(1, %s) g",
                (SEGMENTS,),
            )
            cur.execute(
                """
                CREATE TABLE notification_campaigns (
                    id bigserial,
                    name varchar(200) NOT NULL,
                    segment_id bigint NOT NULL,
                    status varchar(20) NOT NULL DEFAULT 'draft',
                    campaign_type varchar(50),
                    scheduled_at timestamptz,
                    created_at timestamptz NOT NULL DEFAULT now()
                )
                """
            )
            cur.execute(
                """
                INSERT INTO notification_campaigns
                    (id, name, segment_id, status, campaign_type, scheduled_at, created_at)
                SELECT g,
                       'campaign ' || g,
                       1 + g %% %(segments)s,
                       (%(statuses)s::text[])[1 + g %% %(n_statuses)s],
                       (%(types)s::text[])[1 + g %% %(n_types)s],
                       CASE WHEN g %% 3 = 0 THEN now() + g * interval '1 second' END,
                       now() - g * interval '1 second'
                FROM generate_series(1, %(rows)s) g
                """,
                {
                    "segments": SEGMENTS,
                    "statuses": list(CAMPAIGN_STATUSES),
                    "n_statuses": len(CAMPAIGN_STATUSES),
                    "types": list(CAMPAIGN_TYPES),
                    "n_types": len(CAMPAIGN_TYPES),
                    "rows": rows,
                },
            )
            cur.execute(
                "SELECT setval(pg_get_serial_sequence('notification_campaigns', 'id'), %s)",
                (rows,),
            )
            cur.execute(
                "ALTER TABLE notification_campaigns "
                "ADD CONSTRAINT pk_notification_campaigns PRIMARY KEY (id)"
            )
            cur.execute(
                "CREATE INDEX ix_notification_campaigns_segment_id "
                "ON notification_campaigns (segment_id)"
            )
            cur.execute(
                "ALTER TABLE notification_campaigns ADD CONSTRAINT "
                "fk_notification_campaigns_segment_id_customer_segments FOREIGN KEY (segment_id) "
                "REFERENCES customer_segments (id) ON DELETE CASCADE"
            )
            for column, values in (
                ("status", CAMPAIGN_STATUSES),
                ("campaign_type", CAMPAIGN_TYPES),
            ):
                cur.execute(
                    sql.SQL(
                        "ALTER TABLE notification_campaigns ADD CONSTRAINT {} CHECK ({})"
                    ).format(
                        sql.Identifier(f"ck_notification_campaigns_{column}"), _in(column, values)
                    )
                )
            # Frozen and analysed, so the first timed scan does not pay for hint bits.
            cur.execute("VACUUM (FREEZE, ANALYZE) customer_segments, notification_campaigns")
            cur.execute("CHECKPOINT")
    finally:
        conn.close()
    return time.perf_counter() - started


def checkpoint(url: URL) -> None:
    """Flush dirty pages now, so a checkpoint does not land inside a timed run."""
    conn = connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("CHECKPOINT")
    finally:
        conn.close()


def activity(url: URL) -> str:
    """Describe what else the server is doing: other sessions share its WAL and disk."""
    conn = connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT count(*) FILTER (WHERE state = 'active'), count(*),"
                " (SELECT count(*) FROM pg_database WHERE NOT datistemplate)"
                " FROM pg_stat_activity"
                " WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
                " AND application_name NOT LIKE 'bench%%'"
            )
            active, total, databases = cur.fetchone()
    finally:
        conn.close()
    return f"{total} other sessions ({active} active), {databases} databases"


def server_info(url: URL) -> dict[str, str]:
    """Return the server version and the settings that shape these figures."""
    conn = connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW server_version")
            info = {"server_version": cur.fetchone()[0]}
            for name in SETTINGS:
                cur.execute(sql.SQL("SHOW {}").format(sql.Identifier(name)))
                info[name] = cur.fetchone()[0]
            cur.execute("SELECT pg_size_pretty(pg_total_relation_size(to_regclass(%s)))", (TABLE,))
            size = cur.fetchone()[0]
            if size is not None:
                info["table_size"] = size
    finally:
        conn.close()
    return info
