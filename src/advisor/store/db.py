"""Engine construction and schema migrations.

``create_db_engine`` configures SQLite for concurrent use (WAL, foreign keys, a busy timeout and
SQLAlchemy-controlled ``BEGIN``) and PostgreSQL with pre-ping. ``upgrade_database`` runs the packaged
Alembic migrations to head under a database-level lock, so it is safe on every start and from
several processes at once.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import StaticPool

if TYPE_CHECKING:  # alembic is imported only when a migration has to run (see upgrade_database)
    from alembic.config import Config

logger = logging.getLogger(__name__)

#: The folder holding ``env.py`` and ``versions/`` (shipped as package data).
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"

#: The newest migration in ``versions/`` (tests/store/test_migrations.py keeps the two in step).
#: A database already there needs no Alembic at start-up, which saves a replica about 0.2 s.
SHIPPED_HEAD = "0011"

#: Milliseconds a SQLite connection waits for a lock before failing with "database is locked".
SQLITE_BUSY_TIMEOUT_MS = 30_000

#: Execution option read by the SQLite ``begin`` hook: "DEFERRED" (default), "IMMEDIATE" or "EXCLUSIVE".
SQLITE_BEGIN_OPTION = "advisor_sqlite_begin"

# Arbitrary constant key for the PostgreSQL advisory lock serialising migrations across processes.
_PG_MIGRATION_LOCK_KEY = 0x41445649534F52  # "ADVISOR"

_BEGIN_MODES = {"DEFERRED", "IMMEDIATE", "EXCLUSIVE"}


def _normalise_url(url: str | URL) -> URL:
    parsed = make_url(url)
    # Only psycopg 3 is installed; plain postgresql:// would pick psycopg2.
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _is_sqlite_memory(url: URL) -> bool:
    database = url.database or ""
    return database in ("", ":memory:") or "mode=memory" in database


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy emit BEGIN itself (see _sqlite_on_begin) instead of the sqlite3 module's
    # legacy implicit transactions, which skip BEGIN for SELECT and DDL.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        _enable_wal(cursor)
        cursor.execute("PRAGMA synchronous = NORMAL")
    finally:
        cursor.close()


def _enable_wal(cursor: Any, attempts: int = 100) -> None:
    """Switching a new database to WAL needs a moment of exclusive access, and SQLite answers
    "database is locked" at once (without its busy handler) while another process holds it."""
    for attempt in range(attempts):
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.05)


def _sqlite_on_begin(connection: Connection) -> None:
    mode = str(connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")).upper()
    if mode not in _BEGIN_MODES:
        raise ValueError(f"{SQLITE_BEGIN_OPTION} must be one of {sorted(_BEGIN_MODES)}, not {mode!r}")
    connection.exec_driver_sql(f"BEGIN {mode}")


def create_db_engine(url: str, echo: bool = False) -> Engine:
    """An Engine for ``url`` (any SQLAlchemy URL; ``postgresql://`` is routed to psycopg 3).

    SQLite: the parent directory is created, WAL journal mode, foreign keys and a busy timeout are set
    on every connection, ``check_same_thread=False``; transactions start with ``BEGIN DEFERRED`` unless
    the execution option ``advisor_sqlite_begin="IMMEDIATE"`` asks for the write lock up front.
    In-memory SQLite shares one connection (StaticPool). Other backends get ``pool_pre_ping``.
    """
    parsed = _normalise_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, echo=echo, pool_pre_ping=True)

    kwargs: dict[str, Any] = {
        "connect_args": {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
    }
    if _is_sqlite_memory(parsed):
        kwargs["poolclass"] = StaticPool
    elif not parsed.query.get("uri"):
        Path(parsed.database or "").expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed, echo=echo, **kwargs)
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic Config pointing at the packaged migrations, built without an ini file.

    With ``connection``, env.py runs the migrations on it (inside the caller's transaction, if any).
    """
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    """The newest revision shipped with the package."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def database_revision(engine: Engine) -> str | None:
    """The revision the database is at (None for an empty database)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _at_shipped_head(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            current = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError:  # no alembic_version table yet: a new database
        return False
    return current == SHIPPED_HEAD


@contextmanager
def migration_connection(engine: Engine) -> Iterator[Connection]:
    """A connection inside a transaction that holds the cross-process migration lock.

    PostgreSQL: a transaction-scoped advisory lock (DDL is transactional, so a failed migration rolls
    back). SQLite: ``BEGIN IMMEDIATE`` takes the database write lock for the whole migration. The
    transaction commits when the block exits normally.
    """
    backend = engine.dialect.name
    if backend == "sqlite":
        # The BEGIN IMMEDIATE needs the hook installed by create_db_engine (upgrade_database
        # substitutes such an engine for file databases).
        immediate = engine.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
        with immediate.connect() as connection, connection.begin():
            yield connection
        return
    with engine.connect() as connection, connection.begin():
        if backend == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK_KEY})
        yield connection


def upgrade_database(engine_or_url: Engine | str, revision: str = "head") -> None:
    """Run the migrations up to ``revision``; a no-op when the database is already there.

    Safe to call concurrently from several processes: they serialise on a database lock and the
    later ones find the database at head.
    """
    if isinstance(engine_or_url, str):
        engine = create_db_engine(engine_or_url)
        owned = True
    else:
        engine = engine_or_url
        owned = False
        if (
            engine.dialect.name == "sqlite"
            and not event.contains(engine, "begin", _sqlite_on_begin)
            and not _is_sqlite_memory(engine.url)
        ):
            # A foreign SQLite engine lacks the BEGIN hook needed for the lock; use our own.
            engine = create_db_engine(engine.url.render_as_string(hide_password=False))
            owned = True
    try:
        if revision == "head" and _at_shipped_head(engine):
            return
        from alembic import command

        with migration_connection(engine) as connection:
            command.upgrade(alembic_config(connection), revision)
    finally:
        if owned:
            engine.dispose()
    logger.debug("database at revision %s", revision)


def ping(engine: Engine) -> bool:
    """True when the database answers a trivial query."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        logger.warning("database ping failed: %s", exc)
        return False
    return True
