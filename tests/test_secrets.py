"""No secret is ever printed: console, JSON, history rows and tracebacks (issue 11, 6-9).

The password is given every way a user gives one (userinfo, ``?password=``,
``?sslpassword=``, %-encoded, unescaped in a URL that does not parse), and every output
stream plus ``migration_meta.history`` is searched for it in every encoding.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from sqlalchemy.engine import URL

from conventions.db.redact import mask_url, redact, remember
from conventions.harness.scratch import DatabaseFactory, connect, run_cli
from tests.runtime_support import MIGRATE, SEED_HEAD, add_revision, execute, rows, version

# '/', '@', ':', '%', '?' and '+': each one broke a different masking road once.
PASSWORD = "Sw0rd/f@sh:50%?x+y"


def _forms(secret: str) -> set[str]:
    encoded = quote(secret, safe="")
    return {
        secret,
        encoded,
        encoded.lower(),
        quote_plus(secret, safe=""),
        re.sub(r"[@:/]", lambda m: f"%{ord(m.group(0)):X}", secret),
        # the longest pieces between special characters: "part of it printed"
        *(piece for piece in re.split(r"[/@:%?+]", secret) if len(piece) >= 4),
    }


FORMS = _forms(PASSWORD)


def _assert_no_secret(*texts: str, secret: str = PASSWORD) -> None:
    forms = FORMS if secret == PASSWORD else _forms(secret)
    for text in texts:
        for form in forms:
            assert form not in text, f"{form!r} leaked in:\n{text}"


def _history_text(url: URL) -> str:
    if rows(url, "SELECT to_regclass('migration_meta.history')")[0][0] is None:
        return ""
    found = rows(
        url, "SELECT coalesce(error, '') || ' ' || coalesce(note, '') FROM migration_meta.history"
    )
    return "\n".join(r[0] for r in found)


@pytest.fixture
def secret_db(db_factory: DatabaseFactory) -> Iterator[URL]:
    """A fresh database and a superuser role whose password holds every special character.

    On the embedded server (trust on its socket) the password is not checked but still
    travels in the URL, which is what must never be printed.
    """
    role = f"mig_{uuid.uuid4().hex[:8]}"
    admin = connect(db_factory.admin)
    try:
        with admin.cursor() as cur:
            cur.execute(f'CREATE ROLE "{role}" LOGIN SUPERUSER PASSWORD %s', (PASSWORD,))
    finally:
        admin.close()
    url = db_factory.create()
    try:
        yield url.set(username=role, password=PASSWORD)
    finally:
        db_factory.drop(url)
        admin = connect(db_factory.admin)
        try:
            with admin.cursor() as cur:
                cur.execute(f'DROP ROLE IF EXISTS "{role}"')
        finally:
            admin.close()


def _as_text(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def _in_query(url: URL, key: str) -> str:
    """The URL with the password moved into its query (?password=… or ?sslpassword=…)."""
    plain = _as_text(url.set(password=None))
    return f"{plain}{'&' if '?' in plain else '?'}{key}={quote(PASSWORD, safe='')}"


def test_mask_url_hides_every_form() -> None:
    cases = {
        f"postgresql://app:{quote(PASSWORD, safe='')}@h:5432/db": "postgresql://app:***@h:5432/db",
        f"postgresql://app@h/db?password={quote(PASSWORD, safe='')}&sslmode=require": (
            "postgresql://app@h/db?password=***&sslmode=require"
        ),
        f"postgresql://app@h/db?sslpassword={quote(PASSWORD, safe='')}": (
            "postgresql://app@h/db?sslpassword=***"
        ),
        # a '/' in the password and a port that does not parse (issue 7)
        "postgresql://app:pa/ss-word@h:54x2/db": "postgresql://app:***@h:54x2/db",
        # an unescaped '@' and '/' (issue 8): the userinfo ends at the last '@'
        "postgresql://app:pa@ss/wo@rd@h/db": "postgresql://app:***@h/db",
    }
    for raw, masked in cases.items():
        assert mask_url(raw) == masked
    remember(f"postgresql://app:{quote(PASSWORD, safe='')}@h/db")
    text = f"FATAL: {PASSWORD} / {quote(PASSWORD, safe='')} / password='{PASSWORD}'"
    _assert_no_secret(redact(text))


@pytest.mark.parametrize("where", ["userinfo", "password", "sslpassword"])
def test_status_and_json_never_show_the_password(secret_db: URL, where: str) -> None:
    given = _as_text(secret_db) if where == "userinfo" else _in_query(secret_db, where)
    if where == "sslpassword":
        # libpq only reads sslpassword for an encrypted client key; the login still needs
        # a password, given in userinfo here, so both roads are exercised.
        given = _in_query(secret_db, "sslpassword").replace("@", f":{quote(PASSWORD, safe='')}@", 1)
    migrated = run_cli(MIGRATE, url=given)
    assert migrated.returncode == 0, migrated.stderr
    status = run_cli(["-m", "conventions", "status"], url=given)
    as_json = run_cli(["-m", "conventions", "status", "--json"], url=given)
    assert status.returncode == 0 and as_json.returncode == 0, status.stderr + as_json.stderr
    assert "Database: postgresql+psycopg2://" in status.stdout
    assert json.loads(as_json.stdout)["current"] == [SEED_HEAD]
    missing = given.replace(f"/{secret_db.database}", "/no_such_db_here", 1)
    refused = run_cli(["-m", "conventions", "status", "--json"], url=missing)
    assert refused.returncode == 1
    assert json.loads(refused.stdout)["error"]["type"] == "CannotConnect"
    assert "does not exist" in refused.stderr
    _assert_no_secret(
        *(r.stdout + r.stderr for r in (migrated, status, as_json, refused)),
        _history_text(secret_db),
    )


@pytest.mark.parametrize(
    ("raw", "secret", "expected"),
    [
        # issue 7: a '/' in the password of a URL whose port does not parse
        ("postgresql://app:{pw}@localhost:54x2/app", "Sl4sh/in-the/middle", "port that is not"),
        # issue 8: an unescaped '@' plus '/'
        ("postgresql://app:{pw}@localhost/app", PASSWORD, "more than one '@'"),
        ("postgresql://app:{pw}@localhost/app", "at@the/sl4sh", "more than one '@'"),
        ("postgresql//app:{pw}@localhost/app", "Sl4sh/in-the/middle", "malformed"),
        ("postgresql://app:{pw}@[::1/app", "Sl4sh/in-the/middle", "never closes it"),
    ],
)
def test_a_url_that_does_not_parse_shows_no_part_of_the_password(
    raw: str, secret: str, expected: str
) -> None:
    url = raw.format(pw=secret)
    status = ["-m", "conventions", "status", "--json"]
    for argv in (MIGRATE, ["alembic", "upgrade", "head"], status):
        done = run_cli(argv, url=url)
        assert done.returncode != 0
        assert expected in done.stdout + done.stderr
        assert "Traceback" not in done.stdout + done.stderr
        _assert_no_secret(done.stdout, done.stderr, secret=secret)


def test_an_ipv6_host_without_its_bracket_is_named_not_called_a_bad_port() -> None:
    done = run_cli(MIGRATE, url="postgresql://app@[::1/app")
    assert done.returncode == 1
    assert "opens an IPv6 address with '[' but never closes it" in done.stderr
    assert "port" not in done.stderr.split("\n")[0]


def test_a_database_error_quoting_the_url_is_masked_everywhere(
    project_copy: Path, secret_db: URL
) -> None:
    """The migration raises with the URL (as libpq/dblink errors do); history keeps no secret."""
    given = _as_text(secret_db)
    assert run_cli(MIGRATE, url=given).returncode == 0
    add_revision(
        project_copy,
        "aa00000000s1",
        upgrade="""
            url = os.environ["DATABASE_URL"]
            plain = sa.engine.make_url(url).password
            op.execute(sa.text(
                "DO $$ BEGIN RAISE EXCEPTION 'cannot reach %, password %', "
                + repr(url) + ", " + repr(plain.replace("'", "''")) + "; END $$"
            ))
        """,
    )
    runs = [
        run_cli(MIGRATE, url=given, cwd=project_copy),
        run_cli(["alembic", "upgrade", "head"], url=given, cwd=project_copy),
        run_cli(["-m", "conventions", "--traceback", "migrate"], url=given, cwd=project_copy),
        run_cli(["alembic", "--raiseerr", "upgrade", "head"], url=given, cwd=project_copy),
    ]
    for done in runs:
        assert done.returncode != 0
        assert "cannot reach" in done.stdout + done.stderr
    assert "Traceback" in runs[2].stderr and "Traceback" in runs[3].stderr
    status = run_cli(["-m", "conventions", "status", "--json"], url=given, cwd=project_copy)
    errors = [row["error"] for row in json.loads(status.stdout)["history"] if not row["success"]]
    assert errors and all("***" in error for error in errors)
    _assert_no_secret(*(r.stdout + r.stderr for r in [*runs, status]), _history_text(secret_db))
    assert version(secret_db) == [SEED_HEAD]  # nothing applied


def test_history_error_never_stores_a_percent_encoded_password(
    project_copy: Path, secret_db: URL
) -> None:
    given = _in_query(secret_db, "password")
    assert run_cli(MIGRATE, url=given).returncode == 0
    add_revision(
        project_copy,
        "aa00000000s2",
        upgrade="""
            op.execute(sa.text("DO $$ BEGIN RAISE EXCEPTION '%', "
                + repr(os.environ["DATABASE_URL"]) + "; END $$"))
        """,
    )
    done = run_cli(MIGRATE, url=given, cwd=project_copy)
    assert done.returncode == 1
    recorded = _history_text(secret_db)
    assert "password=***" in recorded
    _assert_no_secret(done.stdout, done.stderr, recorded)
    execute(secret_db, "SELECT 1")  # the database is still usable as it was
    assert version(secret_db) == [SEED_HEAD]


def test_history_json_and_stdout_mask_rows_written_before_masking(secret_db: URL) -> None:
    """A row recorded by an older version (unmasked) is masked when shown."""
    given = _as_text(secret_db)
    assert run_cli(MIGRATE, url=given).returncode == 0
    execute(
        secret_db.set(password=None),
        "INSERT INTO migration_meta.history (revision, direction, started_at, finished_at,"
        " duration_ms, success, error) VALUES ('x', 'upgrade', now(), now(), 0, false,"
        f" 'old row: {given.replace(chr(39), chr(39) * 2)}')",
    )
    for argv in (["-m", "conventions", "status"], ["-m", "conventions", "status", "--json"]):
        done = run_cli(argv, url=given)
        assert done.returncode == 0
        assert "old row" in done.stdout
        _assert_no_secret(done.stdout, done.stderr)


def test_masking_leaves_ordinary_output_alone(secret_db: URL) -> None:
    done = run_cli(["-m", "conventions", "status"], url=_as_text(secret_db))
    assert done.returncode == 0
    assert f"/{secret_db.database}" in done.stdout  # host and database are still shown
