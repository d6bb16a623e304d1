"""Migrations: idempotent upgrades, concurrency, parity with the ORM metadata, SQLite engine setup."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

from advisor.store.db import (
    MIGRATIONS_DIR,
    SHIPPED_HEAD,
    alembic_config,
    create_db_engine,
    database_revision,
    head_revision,
    migration_connection,
    upgrade_database,
)
from advisor.store.models import Base

# Every table the ORM declares (the parity test below keeps the two in step), plus Alembic's own.
EXPECTED_TABLES = {"alembic_version", *Base.metadata.tables}


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def test_revisions_form_one_chain_ending_at_the_newest_file() -> None:
    # One linear history: each numbered file revises the one before it, and head is the last.
    files = sorted(p.name for p in (MIGRATIONS_DIR / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))
    numbers = [name[:4] for name in files]
    assert numbers == [f"{i:04d}" for i in range(1, len(numbers) + 1)]
    script = ScriptDirectory.from_config(alembic_config())
    for number, previous in zip(numbers, [None, *numbers[:-1]], strict=True):
        assert script.get_revision(number).down_revision == previous
    assert head_revision() == numbers[-1] == SHIPPED_HEAD  # the start-up shortcut's constant


def test_upgrade_to_head_twice_is_idempotent(db_url: str, db_engine: Engine) -> None:
    assert database_revision(db_engine) is None

    upgrade_database(db_url)  # from a URL
    assert database_revision(db_engine) == head_revision()
    assert _tables(db_engine) == EXPECTED_TABLES

    with db_engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO processed_events (source, event_id, created_at) "
                "VALUES ('test', 'e1', CURRENT_TIMESTAMP)"
            )
        )

    upgrade_database(db_engine)  # from an Engine; already at head: no-op, data kept
    upgrade_database(db_url)
    assert database_revision(db_engine) == head_revision()
    assert _tables(db_engine) == EXPECTED_TABLES
    with db_engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM processed_events")).scalar_one() == 1


def test_metadata_matches_migrations(db_engine: Engine) -> None:
    upgrade_database(db_engine)
    with db_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_downgrade_to_base_and_upgrade_again(db_engine: Engine) -> None:
    upgrade_database(db_engine)
    with migration_connection(db_engine) as connection:
        command.downgrade(alembic_config(connection), "base")
    assert _tables(db_engine) <= {"alembic_version"}
    assert database_revision(db_engine) is None

    upgrade_database(db_engine)
    assert _tables(db_engine) == EXPECTED_TABLES


def test_concurrent_upgrades_from_several_engines(db_url: str) -> None:
    """Simulates several processes starting at once on an empty database."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def start() -> None:
        try:
            engine = create_db_engine(db_url)
            try:
                barrier.wait(timeout=30)
                upgrade_database(engine)
            finally:
                engine.dispose()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []

    engine = create_db_engine(db_url)
    try:
        assert database_revision(engine) == head_revision()
        assert _tables(engine) == EXPECTED_TABLES
    finally:
        engine.dispose()


def test_sqlite_engine_uses_wal_foreign_keys_and_busy_timeout(tmp_path: Path) -> None:
    db_file = tmp_path / "nested" / "dir" / "advisor.db"
    engine = create_db_engine(f"sqlite:///{db_file}")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar_one() > 0
        assert db_file.parent.is_dir()  # parent directories created
    finally:
        engine.dispose()


def test_sqlite_engine_is_usable_from_other_threads(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'advisor.db'}")
    try:
        with engine.connect() as connection:
            result: list[int] = []
            thread = threading.Thread(
                target=lambda: result.append(connection.exec_driver_sql("SELECT 1").scalar_one())
            )
            thread.start()
            thread.join()
            assert result == [1]
    finally:
        engine.dispose()


def test_plain_postgresql_urls_use_psycopg3() -> None:
    engine = create_db_engine("postgresql://user@localhost:5432/advisor")
    try:
        assert engine.dialect.name == "postgresql"
        assert engine.dialect.driver == "psycopg"
        assert engine.pool._pre_ping
    finally:
        engine.dispose()


def test_developer_alembic_ini_points_at_the_packaged_migrations() -> None:
    ini = MIGRATIONS_DIR / "alembic.ini"
    assert ini.is_file()
    config = Config(str(ini))
    script = ScriptDirectory.from_config(config)
    assert Path(script.dir).resolve() == MIGRATIONS_DIR.resolve()
    assert script.get_current_head() == head_revision()


@pytest.mark.parametrize("revision", ["head", "0001"])
def test_upgrade_accepts_explicit_revision(tmp_path: Path, revision: str) -> None:
    url = f"sqlite:///{tmp_path / 'advisor.db'}"
    upgrade_database(url, revision)
    engine = create_db_engine(url)
    try:
        assert database_revision(engine) == (head_revision() if revision == "head" else revision)
    finally:
        engine.dispose()
