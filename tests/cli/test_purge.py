"""`advisor purge`: idle conversations by an age or by the retention settings, per channel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from tests.chat.helpers import NOTEBOOK_QUESTION
from tests.cli.conftest import Invoke
from tests.plugins.fast import FastContainer


def _age_every_conversation(container: object, days: int) -> None:
    engine = container.engine  # type: ignore[attr-defined]
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE conversations SET updated_at = :at"),
            {"at": datetime.now(UTC) - timedelta(days=days)},
        )


def test_purge_by_age_and_by_the_settings(
    fast_container: FastContainer, invoke: Invoke, tmp_path: Path
) -> None:
    container = fast_container(retention={"channel_days": {"cli": 30}})
    assert invoke(container, "ask", NOTEBOOK_QUESTION, "--plain").exit_code == 0
    with container.engine.connect() as connection:
        assert connection.execute(text("SELECT channel FROM conversations")).scalars().all() == ["cli"]

    fresh = invoke(container, "purge", "--older-than", "90d", "--dry-run")
    assert fresh.exit_code == 0 and "would delete 0 conversations of every channel" in fresh.stdout

    _age_every_conversation(container, 45)
    by_settings = invoke(container, "purge", "--dry-run")  # cli: 30 days, from the settings
    assert by_settings.exit_code == 0 and "would delete 1 conversations of cli" in by_settings.stdout
    other = invoke(container, "purge", "--older-than", "30d", "--channel", "widget")
    assert "deleted 0 conversations of widget" in other.stdout
    done = invoke(container, "purge", "--older-than", "30d")
    assert done.exit_code == 0 and "deleted 1 conversations" in done.stdout
    with container.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM messages")).scalar() == 0


def test_purge_refusals_are_one_line(fast_container: FastContainer, invoke: Invoke, tmp_path: Path) -> None:
    container = fast_container(data_dir=tmp_path / "data")
    for args, reason in (
        ((), "nothing to purge by: give --older-than"),
        (("--older-than", "3 months"), "is not an age such as 90d"),
        (("--older-than", "9d", "--channel", "email"), "unknown channel 'email'"),
    ):
        refused = invoke(container, "purge", *args)
        assert refused.exit_code == 2, refused.output
        assert refused.stderr.startswith("advisor: ") and reason in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1
