"""The console's retention actions (fast tier, real HTTP): conversations filtered by key and all of a
key's deleted, and a purge by age that shows its count before it deletes anything."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from advisor.store.conversations import MessageDraft, NewConversation
from advisor.store.models import Conversation, new_id, utcnow
from tests.admin.conftest import BOOTSTRAP
from tests.admin.test_console_http import _csrf, _sign_in
from tests.plugins.advisor_app import LiveServer


def _seed(server: LiveServer, key_id: str | None, channel: str, idle_days: int = 0) -> str:
    conversation_id = new_id()
    reply = server.container.conversations.record_turn(
        conversation_id,
        f"How do we monitor the model? ({key_id}, {channel})",
        MessageDraft("Watch inputs, outputs and the business KPI."),
        new_conversation=NewConversation(key_id, None, channel),
    )
    assert reply is not None
    if idle_days:
        with server.container.engine.begin() as db:
            db.execute(
                update(Conversation)
                .where(Conversation.id == conversation_id)
                .values(updated_at=utcnow() - timedelta(days=idle_days))
            )
    return conversation_id


def _ids(server: LiveServer) -> set[str]:
    with server.container.engine.connect() as db:
        return {
            row[0] for row in db.execute(Conversation.__table__.select().with_only_columns(Conversation.id))
        }


def test_all_conversations_of_one_key_are_deleted_and_no_other(server: LiveServer) -> None:
    theirs = [_seed(server, "key_portal00001", "api") for _ in range(3)]
    others = [_seed(server, "key_other000002", "api"), _seed(server, None, "cli")]
    with server.client() as http:
        _sign_in(http, BOOTSTRAP)
        listed = http.get("/admin/conversations", params={"key": "key_portal00001"})
        assert listed.status_code == 200
        assert "Delete all 3 conversations of key_portal00001" in listed.text
        assert listed.text.count("/admin/conversations/") >= 3 and "key_other000002" not in listed.text
        token = _csrf(listed)
        assert http.post("/admin/conversations/of-key", data={"key": "key_portal00001"}).status_code == 403
        assert http.post("/admin/conversations/of-key", data={"csrf": token, "key": " "}).status_code == 422
        done = http.post("/admin/conversations/of-key", data={"csrf": token, "key": "key_portal00001"})
        assert done.status_code == 303
        assert _ids(server) == set(others) and not set(theirs) & _ids(server)
        assert "delete conversations of key" in http.get("/admin/audit").text
        assert "key_portal00001: 3" in http.get("/admin/audit").text


def test_a_purge_shows_what_it_would_delete_then_deletes_only_that(server: LiveServer) -> None:
    old_widget = _seed(server, None, "widget", idle_days=100)
    old_api = _seed(server, None, "api", idle_days=100)
    recent = _seed(server, None, "widget", idle_days=10)
    with server.client() as http:
        _sign_in(http, BOOTSTRAP)
        token = _csrf(http.get("/admin/conversations"))
        bad = http.post("/admin/conversations/purge", data={"csrf": token, "older_than": "ninety"})
        assert bad.status_code == 422 and "90d, 12h or 2w" in bad.text
        unknown = http.post(
            "/admin/conversations/purge", data={"csrf": token, "older_than": "90d", "channel": "fax"}
        )
        assert unknown.status_code == 422

        asked = http.post(
            "/admin/conversations/purge", data={"csrf": token, "older_than": "90d", "channel": "widget"}
        )
        assert asked.status_code == 200 and "Delete 1 conversations" in asked.text
        assert _ids(server) == {old_widget, old_api, recent}  # nothing deleted before the confirmation
        confirmed = http.post(
            "/admin/conversations/purge",
            data={"csrf": token, "older_than": "90d", "channel": "widget", "confirm": "1"},
        )
        assert confirmed.status_code == 303
        assert _ids(server) == {old_api, recent}

        everywhere = http.post("/admin/conversations/purge", data={"csrf": token, "older_than": "30d"})
        assert "Delete 1 conversations" in everywhere.text
        http.post("/admin/conversations/purge", data={"csrf": token, "older_than": "30d", "confirm": "1"})
        assert _ids(server) == {recent}
        nothing = http.post("/admin/conversations/purge", data={"csrf": token, "older_than": "30d"})
        assert "Nothing to delete" in nothing.text
        assert "purge conversations" in http.get("/admin/audit").text


def test_deleting_a_conversation_deletes_its_readiness_assessment(server: LiveServer) -> None:
    from advisor.auth import LOCAL_PRINCIPAL
    from advisor.chat.errors import NotFound
    from advisor.chat.model import Caller

    caller = Caller(LOCAL_PRINCIPAL, "api")
    kept, gone = _seed(server, None, "api"), _seed(server, None, "api", idle_days=100)
    desk = server.container.assessments
    ids = {c: desk.create("churn model, no MLOps", {}, c, caller).id for c in (kept, gone)}
    with server.client() as http:
        _sign_in(http, BOOTSTRAP)
        token = _csrf(http.get("/admin/conversations"))
        http.post("/admin/conversations/purge", data={"csrf": token, "older_than": "30d", "confirm": "1"})
    assert server.container.assessments.get(ids[kept], caller).conversation_id == kept
    with pytest.raises(NotFound):
        server.container.assessments.get(ids[gone], caller)
