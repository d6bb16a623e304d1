"""Widget keys issued in the console (fast tier): they work at once, CORS included, with no restart,
only from their origins, and stop at once when revoked."""

from __future__ import annotations

import re

import httpx

from tests.admin.conftest import BOOTSTRAP
from tests.admin.test_console_http import _csrf, _sign_in
from tests.plugins.advisor_app import LiveServer

ORIGIN = "https://intranet.example"


def _chat(http: httpx.Client, key: str, origin: str) -> httpx.Response:
    return http.post(
        "/v1/chat",
        json={"message": "How do we roll back a canary release?"},
        headers={"Authorization": f"Bearer {key}", "Origin": origin},
    )


def test_a_widget_key_issued_in_the_console_works_at_once_and_stops_when_revoked(server: LiveServer) -> None:
    with server.client() as http:
        _sign_in(http, BOOTSTRAP)
        token = _csrf(http.get("/admin/keys"))
        bad = http.post(
            "/admin/widget-keys", data={"csrf": token, "name": "intranet", "origins": "intranet.example/path"}
        )
        assert bad.status_code == 422 and "is not an origin" in bad.text
        created = http.post("/admin/widget-keys", data={"csrf": token, "name": "intranet", "origins": ORIGIN})
        assert created.status_code == 200
        found = re.search(r'data-widget-key="(wk_[^"]+)"', created.text)
        assert found, created.text[:800]
        key = found.group(1)

        preflight = http.options(
            "/v1/chat",
            headers={
                "Origin": ORIGIN,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization",
            },
        )
        assert preflight.status_code == 204 and preflight.headers["access-control-allow-origin"] == ORIGIN
        answered = _chat(http, key, ORIGIN)
        assert answered.status_code == 200, answered.text
        assert answered.headers["access-control-allow-origin"] == ORIGIN
        assert _chat(http, key, "https://evil.example").status_code == 403
        assert (
            http.post(
                "/v1/search",
                json={"query": "x"},
                headers={"Authorization": f"Bearer {key}", "Origin": ORIGIN},
            ).status_code
            == 403
        )

        (record,) = server.container.widget_key_store.list()
        assert http.post(f"/admin/widget-keys/{record.id}/revoke", data={"csrf": token}).status_code == 303
        refused = _chat(http, key, ORIGIN)
        assert refused.status_code == 401 and "revoked" in refused.json()["reason"]
        assert "revoke widget key" in http.get("/admin/audit").text


def test_a_widget_key_has_its_own_chat_limit_which_the_console_changes_at_once(server: LiveServer) -> None:
    with server.client() as http:
        _sign_in(http, BOOTSTRAP)
        token = _csrf(http.get("/admin/keys"))
        bad = http.post(
            "/admin/widget-keys",
            data={"csrf": token, "name": "kiosk", "origins": ORIGIN, "rate_limit": "lots"},
        )
        assert bad.status_code == 422 and "is not a rate limit" in bad.text
        created = http.post(
            "/admin/widget-keys",
            data={"csrf": token, "name": "kiosk", "origins": ORIGIN, "rate_limit": "2/minute"},
        )
        found = re.search(r'data-widget-key="(wk_[^"]+)"', created.text)
        assert found, created.text[:800]
        key = found.group(1)
        assert [_chat(http, key, ORIGIN).status_code for _ in range(3)] == [200, 200, 429]

        (record,) = server.container.widget_key_store.list()
        assert record.rate_limit == "2/minute" and "2/minute" in http.get("/admin/keys").text
        second = "https://kiosk.example"
        changed = http.post(
            f"/admin/widget-keys/{record.id}",
            data={"csrf": token, "origins": f"{ORIGIN}\n{second}", "rate_limit": "4/minute"},
        )
        assert changed.status_code == 303
        # The new limit counts afresh; the new origin works at once.
        assert [_chat(http, key, second).status_code for _ in range(5)] == [200, 200, 200, 200, 429]
        refused = http.post(
            f"/admin/widget-keys/{record.id}", data={"csrf": token, "origins": "", "rate_limit": ""}
        )
        assert refused.status_code == 422 and "at least one allowed origin" in refused.text
        assert (
            http.post("/admin/widget-keys/nope", data={"csrf": token, "origins": ORIGIN}).status_code == 404
        )
        assert "change widget key" in http.get("/admin/audit").text
