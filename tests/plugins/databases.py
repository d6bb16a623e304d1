"""Database backends for store tests.

``db_url`` is parametrised over SQLite (a file in tmp_path, always) and PostgreSQL (only when
``ADVISOR_TEST_POSTGRES_URL`` is set; skipped otherwise). Each PostgreSQL test gets a fresh schema,
selected through ``search_path`` in the URL and dropped afterwards, so runs never interfere.
``db_engine`` is an engine from ``create_db_engine`` on that URL, disposed after the test.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from advisor.store.db import create_db_engine

POSTGRES_URL_ENV = "ADVISOR_TEST_POSTGRES_URL"
POSTGRES_SKIP_REASON = "set ADVISOR_TEST_POSTGRES_URL to run the PostgreSQL store tests"


def postgres_url_with_schema(base_url: str, schema: str) -> str:
    """``base_url`` with ``search_path`` set to ``schema`` for every connection (psycopg ``options``)."""
    url = make_url(base_url)
    options = f"{url.query.get('options', '')} -csearch_path={schema}".strip()
    return url.update_query_dict({"options": options}).render_as_string(hide_password=False)


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'db' / 'advisor.db'}"
        return

    base_url = os.environ.get(POSTGRES_URL_ENV, "").strip()
    if not base_url:
        pytest.skip(POSTGRES_SKIP_REASON)
    schema = f"advisor_test_{uuid.uuid4().hex[:16]}"
    admin = create_db_engine(base_url)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        yield postgres_url_with_schema(base_url, schema)
    finally:
        with admin.begin() as connection:
            connection.execute(text("SET LOCAL lock_timeout = '30s'"))
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def db_engine(db_url: str) -> Iterator[Engine]:
    engine = create_db_engine(db_url)
    try:
        yield engine
    finally:
        engine.dispose()
