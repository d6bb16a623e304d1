"""Session plumbing shared by every store class: one short transaction per call."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from advisor.store.db import SQLITE_BEGIN_OPTION


class SessionScopes:
    """``_read()`` and ``_write()`` transactions over one engine; thread-safe (a session per call)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._reader = sessionmaker(bind=engine, expire_on_commit=False)
        # On SQLite (engines from create_db_engine) writers take the write lock at BEGIN, so
        # read-then-write transactions wait on busy_timeout instead of failing with "database is locked".
        self._writer = sessionmaker(
            bind=engine.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"}), expire_on_commit=False
        )

    @property
    def engine(self) -> Engine:
        return self._engine

    @contextmanager
    def _read(self) -> Iterator[Session]:
        with self._reader.begin() as session:
            yield session

    @contextmanager
    def _write(self) -> Iterator[Session]:
        with self._writer.begin() as session:
            yield session
