"""``alembic revision --autogenerate`` writes house migrations, as a user runs it.

Every scenario runs the real commands in a scratch copy of the project on a real
PostgreSQL: edit a model file, autogenerate, read the operations written (compared
as Python syntax trees, so layout does not matter; layout is checked by ruff),
apply them, and ask ``alembic check`` whether models and database now agree;
then downgrade and look at the catalog. The copy's ``app`` package wins over the
installed one because alembic.ini prepends the working directory to ``sys.path``
(the model edits would not show up in the migration otherwise).

A module-scoped base (sample domain plus a scratch ``tickets`` table, at head) is
built once; each test gets a copy of its files and a clone of its database.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

from conventions.db import catalog
from conventions.harness.scratch import DatabaseFactory, run_cli

ROOT = Path(__file__).resolve().parents[1]

KINDS = ["bug", "feature", "it's", '"quoted"', "a, b", "50%", "a :b", "back\\slash", "ünï ✓", " x "]
STATUSES = ["open", "closed"]


def ticket_models(
    *,
    kinds: list[str] = KINDS,
    kind_length: int | None = None,
    status: bool = True,
    extra: str = "",
    grade_values: str = "'a', 'b'",
    imports: str = "",
) -> str:
    """The scratch model module: one table with choice columns and hand-written CHECKs."""
    length = f", length={kind_length}" if kind_length else ""
    status_line = (
        f"    status: Mapped[str] = mapped_column(Choice({STATUSES!r}, length=20), "
        'server_default="open", comment="Where the ticket is.")\n'
        if status
        else ""
    )
    return (
        "from sqlalchemy import BigInteger, CheckConstraint, Integer, String\n"
        "from sqlalchemy.orm import Mapped, mapped_column\n\n"
        "from app.models.base import Base\n"
        "from conventions import Choice\n"
        f"{imports}\n\n"
        "class Ticket(Base):\n"
        '    __tablename__ = "tickets"\n'
        "    __table_args__ = (\n"
        '        CheckConstraint("score >= 0", name="score_positive"),\n'
        f'        CheckConstraint("grade IN ({grade_values})", name="grade"),\n'
        "    )\n\n"
        "    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)\n"
        f"    kind: Mapped[str] = mapped_column(Choice({kinds!r}{length}))\n"
        f"{status_line}"
        "    score: Mapped[int | None] = mapped_column(Integer)\n"
        "    grade: Mapped[str | None] = mapped_column(String(1))\n"
        f"{extra}"
    )


@dataclass
class Migration:
    path: Path

    @property
    def source(self) -> str:
        return self.path.read_text(encoding="utf-8")

    def body(self, function: str) -> str:
        """The statements of ``upgrade``/``downgrade``, normalised by ``ast.unparse``."""
        for node in ast.parse(self.source).body:
            if isinstance(node, ast.FunctionDef) and node.name == function:
                return "\n".join(ast.unparse(statement) for statement in node.body)
        raise AssertionError(f"no {function}() in {self.path.name}")


def code(source: str) -> str:
    """Normalise expected operations the way Migration.body does."""
    return "\n".join(ast.unparse(statement) for statement in ast.parse(source).body)


def replace_in(path: Path, old: str, new: str) -> None:
    source = path.read_text(encoding="utf-8")
    assert old in source, f"{old!r} not in {path}"
    path.write_text(source.replace(old, new), encoding="utf-8")


@dataclass
class Scratch:
    """A project copy and its database: run commands, edit models, read the catalog."""

    root: Path
    url: URL

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run_cli(list(args), url=self.url, cwd=self.root)

    def ok(self, *args: str) -> str:
        result = self.run(*args)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout + result.stderr

    def write_models(self, source: str) -> None:
        (self.root / "app" / "models" / "scratch.py").write_text(source, encoding="utf-8")

    def edit(self, relative: str, old: str, new: str) -> None:
        replace_in(self.root / relative, old, new)

    def versions(self) -> set[Path]:
        return set((self.root / "alembic" / "versions").glob("*.py"))

    def autogenerate(self, message: str) -> Migration:
        before = self.versions()
        self.ok("alembic", "revision", "--autogenerate", "-m", message)
        (path,) = self.versions() - before
        return Migration(path)

    def assert_lint_clean(self, migration: Migration, *, squawk: set[str] | None = None) -> None:
        """ruff, ruff format and the house lint pass; squawk reports exactly ``squawk``."""
        assert self.squawk(migration) == (squawk or set())
        for args in (
            ["-m", "ruff", "check", str(migration.path)],
            ["-m", "ruff", "format", "--check", str(migration.path)],
            ["-m", "conventions", "lint", str(migration.path)],
        ):
            result = run_cli(args, url=None, cwd=self.root)
            assert result.returncode == 0, f"{args}: {result.stdout}{result.stderr}"

    def squawk(self, migration: Migration) -> set[str]:
        """The squawk rules `make lint` reports for this migration's upgrade SQL."""
        script = (
            "from pathlib import Path\n"
            "from conventions.lint import squawk\n"
            "for v in squawk.run(Path('.')):\n"
            f"    if v.path.endswith({migration.path.name!r}): print(v.rule)\n"
        )
        result = run_cli(["-c", script], url=None, cwd=self.root)
        assert result.returncode == 0, result.stdout + result.stderr
        return set(result.stdout.split())

    def choice(self, table: str, column: str) -> tuple[int | None, set[str] | None]:
        """(VARCHAR length, allowed set) of a column as the catalog has it."""
        engine = create_engine(self.url, poolclass=NullPool)
        try:
            with engine.connect() as conn:
                info = catalog.table(conn, table)
                assert info is not None, table
                col = catalog.column(conn, info.oid, column)
                assert col is not None, f"{table}.{column}"
                check = catalog.constraint(conn, info.oid, f"ck_{table}_{column}")
                parsed = check.choice() if check is not None else None
                return col.varchar_length, set(parsed.values) if parsed else None
        finally:
            engine.dispose()

    def has_column(self, table: str, column: str) -> bool:
        engine = create_engine(self.url, poolclass=NullPool)
        try:
            with engine.connect() as conn:
                info = catalog.table(conn, table)
                return info is not None and catalog.column(conn, info.oid, column) is not None
        finally:
            engine.dispose()

    def execute(self, sql: str, **params: object) -> None:
        engine = create_engine(self.url, poolclass=NullPool)
        try:
            with engine.begin() as conn:
                conn.execute(text(sql), params)
        finally:
            engine.dispose()

    def assert_check_clean(self) -> None:
        out = self.ok("alembic", "check")
        assert "No new upgrade operations detected." in out


@dataclass
class Built:
    root: Path
    template: str
    first: Migration


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    """The sample project plus ``tickets`` (created by autogenerate), migrated to head."""
    factory = DatabaseFactory()
    root = tmp_path_factory.mktemp("autogen") / "project"
    root.mkdir()
    for name in ("alembic.ini", "pyproject.toml", ".squawk.toml"):
        shutil.copy(ROOT / name, root / name)
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(ROOT / "alembic", root / "alembic", ignore=ignore)
    shutil.copytree(ROOT / "app", root / "app", ignore=ignore)
    with (root / "app" / "models" / "__init__.py").open("a", encoding="utf-8") as init:
        init.write("\nfrom app.models.scratch import Ticket  # noqa: E402, F401\n")
    url = factory.create(prefix="autogen")
    try:
        scratch = Scratch(root, url)
        scratch.write_models(ticket_models())
        scratch.ok("alembic", "upgrade", "head")
        first = scratch.autogenerate("create tickets")
        scratch.ok("alembic", "upgrade", "head")
        yield Built(root, url.database or "", first)
    finally:
        factory.drop(url)


@pytest.fixture
def scratch(base: Built, tmp_path: Path, db_factory: DatabaseFactory) -> Iterator[Scratch]:
    root = tmp_path / "project"
    shutil.copytree(base.root, root, ignore=shutil.ignore_patterns("__pycache__"))
    url = db_factory.create(template=base.template)
    try:
        yield Scratch(root, url)
    finally:
        db_factory.drop(url)


def test_new_table_renders_create_table_with_named_check_inline(
    base: Built, scratch: Scratch
) -> None:
    upgrade = base.first.body("upgrade")
    assert upgrade.startswith("op.create_table('tickets'")
    assert "sa.Column('kind', sa.String(length=20), nullable=False)" in upgrade
    assert "server_default='open', nullable=False, comment='Where the ticket is.')" in upgrade
    kinds = f"sa.CheckConstraint(sa.column('kind').in_({KINDS!r}), name=op.f('ck_tickets_kind'))"
    assert kinds in upgrade
    statuses = "sa.column('status').in_(['open', 'closed']), name=op.f('ck_tickets_status'))"
    assert statuses in upgrade
    # the hand-written CHECKs are Alembic's own rendering, untouched
    assert "sa.CheckConstraint('score >= 0', name=op.f('ck_tickets_score_positive'))" in upgrade
    assert "sa.CheckConstraint(\"grade IN ('a', 'b')\", name=op.f('ck_tickets_grade'))" in upgrade
    assert base.first.body("downgrade") == "op.drop_table('tickets')"
    for word in ("Choice", "Enum", "ENUM"):
        assert word not in base.first.source
    scratch.assert_lint_clean(
        Migration(scratch.root / "alembic" / "versions" / base.first.path.name)
    )

    # applied (by the base fixture): every value, quotes and all, is stored exactly
    assert scratch.choice("tickets", "kind") == (20, set(KINDS))
    assert scratch.choice("tickets", "status") == (20, set(STATUSES))
    for value in KINDS:
        scratch.execute("INSERT INTO tickets (kind) VALUES (:v)", v=value)
    with pytest.raises(Exception, match="ck_tickets_kind"):
        scratch.execute("INSERT INTO tickets (kind) VALUES ('bug ')")
    scratch.assert_check_clean()


def test_no_model_change_yields_an_empty_lint_clean_migration(scratch: Scratch) -> None:
    migration = scratch.autogenerate("nothing changed")
    assert migration.path.name.endswith("-nothing-changed.py")
    assert migration.body("upgrade") == "pass"
    assert migration.body("downgrade") == "pass"
    assert "import conventions" in migration.source
    scratch.assert_lint_clean(migration)


def test_campaign_type_values_change_renders_alter_choices(scratch: Scratch) -> None:
    """The issue's "done when": campaign_type gains one value and loses another."""
    old = [
        "lifecycle",
        "promotional",
        "transactional",
        "new_offer_announcement",
        "custom_promotion",
        "seasonal_campaign",
    ]
    new = [v for v in old if v != "custom_promotion"] + ["referral"]
    models = "app/models/notification_campaigns.py"
    scratch.edit(models, '    "custom_promotion",\n', "")
    scratch.edit(
        models, '    "seasonal_campaign",\n', '    "seasonal_campaign",\n    "referral",\n'
    )

    before = scratch.run("alembic", "check")
    assert before.returncode != 0  # alembic's FAILED: exits 255
    assert "modify_choices" in before.stdout + before.stderr
    status = scratch.run("-m", "conventions", "status", "--check")
    assert status.returncode == 1
    assert "notification_campaigns.campaign_type" in status.stdout

    migration = scratch.autogenerate("referral campaigns replace custom promotions")
    table = "'notification_campaigns', 'campaign_type'"
    assert migration.body("upgrade") == code(
        f"op.alter_choices({table}, {new!r}, existing_values={old!r})"
    )
    assert migration.body("downgrade") == code(
        f"op.alter_choices({table}, {old!r}, existing_values={new!r})"
    )
    scratch.assert_lint_clean(migration)

    scratch.ok("alembic", "upgrade", "head")
    assert scratch.choice("notification_campaigns", "campaign_type") == (50, set(new))
    scratch.assert_check_clean()
    assert scratch.run("-m", "conventions", "status", "--check").returncode == 0

    scratch.ok("alembic", "downgrade", "-1")
    assert scratch.choice("notification_campaigns", "campaign_type") == (50, set(old))
    scratch.ok("alembic", "upgrade", "head")
    scratch.assert_check_clean()


def test_reordered_values_are_not_a_change(scratch: Scratch) -> None:
    scratch.write_models(ticket_models(kinds=list(reversed(KINDS))))
    scratch.assert_check_clean()


def test_new_choice_column_renders_add_choice_column(scratch: Scratch) -> None:
    extra = (
        "    channel: Mapped[str] = mapped_column(\n"
        '        Choice(["email", "sms"]), server_default="email", comment="How."\n'
        "    )\n"
    )
    scratch.write_models(ticket_models(extra=extra))
    assert scratch.run("alembic", "check").returncode != 0
    migration = scratch.autogenerate("add ticket channel")
    assert migration.body("upgrade") == code(
        "op.add_choice_column('tickets', 'channel', ['email', 'sms'], length=20,"
        " nullable=False, server_default='email', comment='How.')"
    )
    assert migration.body("downgrade") == code("op.drop_choice_column('tickets', 'channel')")
    scratch.assert_lint_clean(migration)

    scratch.execute("INSERT INTO tickets (kind) VALUES ('bug')")
    scratch.ok("alembic", "upgrade", "head")
    assert scratch.choice("tickets", "channel") == (20, {"email", "sms"})
    scratch.assert_check_clean()
    scratch.ok("alembic", "downgrade", "-1")
    assert not scratch.has_column("tickets", "channel")


def test_removed_choice_column_renders_drop_choice_column_recreated_on_downgrade(
    scratch: Scratch,
) -> None:
    scratch.write_models(ticket_models(status=False))
    migration = scratch.autogenerate("drop ticket status")
    assert migration.body("upgrade") == code("op.drop_choice_column('tickets', 'status')")
    assert migration.body("downgrade") == code(
        "op.add_choice_column('tickets', 'status', ['open', 'closed'], length=20,"
        " nullable=False, server_default='open', comment='Where the ticket is.')"
    )
    # Dropping a column breaks its readers: squawk keeps saying so until a person
    # writes why it is safe (# squawk-ignore-file: ban-drop-column  (reason)).
    scratch.assert_lint_clean(migration, squawk={"ban-drop-column"})

    scratch.execute("INSERT INTO tickets (kind, status) VALUES ('bug', 'closed')")
    scratch.ok("alembic", "upgrade", "head")
    assert not scratch.has_column("tickets", "status")
    scratch.assert_check_clean()
    scratch.ok("alembic", "downgrade", "-1")
    assert scratch.choice("tickets", "status") == (20, set(STATUSES))


def test_length_change_renders_alter_choices_with_length(scratch: Scratch) -> None:
    scratch.write_models(ticket_models(kind_length=40))
    migration = scratch.autogenerate("widen ticket kind")
    assert migration.body("upgrade") == code(
        f"op.alter_choices('tickets', 'kind', {KINDS!r}, length=40, existing_values="
        f"{KINDS!r}, existing_length=20)"
    )
    assert migration.body("downgrade") == code(
        f"op.alter_choices('tickets', 'kind', {KINDS!r}, length=20, existing_values="
        f"{KINDS!r}, existing_length=40)"
    )
    scratch.assert_lint_clean(migration)
    scratch.ok("alembic", "upgrade", "head")
    assert scratch.choice("tickets", "kind") == (40, set(KINDS))
    scratch.assert_check_clean()
    scratch.ok("alembic", "downgrade", "-1")
    assert scratch.choice("tickets", "kind") == (20, set(KINDS))


def test_hand_written_check_is_left_alone(scratch: Scratch) -> None:
    """A CHECK written in the model is not a Choice: autogenerate neither compares nor
    rewrites it (Alembic does not compare CHECKs), even when it lists values."""
    scratch.write_models(ticket_models(grade_values="'a', 'b', 'c'"))
    scratch.assert_check_clean()
    migration = scratch.autogenerate("nothing for grade")
    assert migration.body("upgrade") == "pass"


def test_enum_in_models_is_refused_and_nothing_is_written(scratch: Scratch) -> None:
    extra = '    mood: Mapped[str] = mapped_column(Enum("happy", "sad", name="mood"))\n'
    scratch.write_models(ticket_models(extra=extra, imports="from sqlalchemy import Enum\n"))
    before = scratch.versions()
    result = scratch.run("alembic", "revision", "--autogenerate", "-m", "add mood")
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "Autogenerate would write an Enum type for tickets.mood" in output
    assert "conventions.Choice" in output
    assert "Traceback" not in output
    assert scratch.versions() == before
    check = scratch.run("alembic", "check")
    assert check.returncode != 0 and "tickets.mood" in check.stdout + check.stderr
    assert not scratch.has_column("tickets", "mood")


def test_server_default_outside_the_values_is_refused(scratch: Scratch) -> None:
    extra = '    channel: Mapped[str] = mapped_column(Choice(["email"]), server_default="fax")\n'
    scratch.write_models(ticket_models(extra=extra))
    before = scratch.versions()
    result = scratch.run("alembic", "revision", "--autogenerate", "-m", "add channel")
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "server_default 'fax' of tickets.channel is not one of its values" in output
    assert "Traceback" not in output
    assert scratch.versions() == before
    assert not scratch.has_column("tickets", "channel")


def test_harness_models_match_sees_a_choice_change(project_copy: Path) -> None:
    """`make test`'s "models match the database" fails on a values-only model change."""
    models = project_copy / "app" / "models" / "notification_campaigns.py"
    replace_in(models, '    "custom_promotion",\n', "")
    shutil.copytree(
        ROOT / "tests", project_copy / "tests", ignore=shutil.ignore_patterns("__pycache__")
    )
    result = run_cli(
        [
            *("-m", "pytest", "-q", "--tb=short", "-p", "no:cacheprovider", "-W", "error"),
            *("-k", "models_match", "tests/test_migrations.py"),
        ],
        url=DatabaseFactory().base,
        cwd=project_copy,
        env={"CONVENTIONS_ROOT": str(project_copy)},
        timeout=300,
    )
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "test_models_match_database_at_head" in out
    assert "op.alter_choices('notification_campaigns', 'campaign_type'" in out
