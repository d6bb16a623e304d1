"""/v1/assessments over real HTTP (fast tier): create from a description and answers, read it back,
re-score with changed answers and see what moved; owners only, chat scope, clear 4xx refusals."""

from __future__ import annotations

from tests.api.helpers import assert_json_error
from tests.plugins.fast import FastServer

BOOTSTRAP = "assessment-test-key-0123456789abcdef"
CHURN = "churn model, data in three CRMs, two data scientists, no MLOps"


def test_create_read_and_re_score_an_assessment(fast_server: FastServer) -> None:
    with fast_server(api={"keys": [BOOTSTRAP]}) as server, server.client() as http:
        auth = {"Authorization": f"Bearer {BOOTSTRAP}"}
        chat = http.post("/v1/chat", json={"message": "Where do we start?"}, headers=auth).json()
        created = http.post(
            "/v1/assessments",
            json={
                "initiative": CHURN,
                "answers": {"monitoring": "none"},
                "conversation_id": chat["conversation_id"],
            },
            headers=auth,
        )
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["conversation_id"] == chat["conversation_id"] and body["changes"] == []
        card = body["scorecard"]
        levels = {t["topic"]: t["level"] for t in card["topics"]}
        assert levels["infrastructure"] == 1 and levels["monitoring"] == 1 and levels["deployment"] is None
        said = {a["question"]: (a["source"], a["said"]) for a in body["answers"]}
        assert said["data_access"] == ("read", "data in three CRMs") and said["monitoring"] == ("chosen", "")
        assert [p["days"] for p in card["plan"]][:1] == [30]
        first = card["plan"][0]["action"]
        assert card["citations"][first["n"] - 1]["doc_id"]
        assert {q["id"] for q in card["open_questions"]} >= {"stage", "sponsor"}

        again = http.get(f"/v1/assessments/{body['id']}", headers=auth)
        assert again.status_code == 200 and again.json()["scorecard"] == card

        patched = http.patch(
            f"/v1/assessments/{body['id']}",
            json={"answers": {"mlops": "platform", "stage": "production"}},
            headers=auth,
        )
        assert patched.status_code == 200, patched.text
        moved = {c["topic"]: (c["before"], c["after"]) for c in patched.json()["changes"]}
        assert moved["infrastructure"] == (1, 3) and moved["deployment"] == (
            None,
            2,
        )  # live, unmonitored: capped
        kept = {a["question"]: a["choice"] for a in patched.json()["answers"]}
        assert kept["monitoring"] == "none" and kept["data_access"] == "scattered"  # earlier answers stay


def test_assessments_refuse_clearly(fast_server: FastServer) -> None:
    with fast_server(api={"keys": [BOOTSTRAP]}) as server, server.client() as http:
        auth = {"Authorization": f"Bearer {BOOTSTRAP}"}
        reason = assert_json_error(
            http.post("/v1/assessments", json={}, headers=auth), 422, "invalid_request"
        )
        assert "describe the initiative" in reason
        bad = http.post(
            "/v1/assessments", json={"initiative": CHURN, "answers": {"mlops": "some"}}, headers=auth
        )
        assert "has no answer 'some'" in assert_json_error(bad, 422, "invalid_request")
        unknown = http.post("/v1/assessments", json={"initiative": CHURN, "colour": "red"}, headers=auth)
        assert_json_error(unknown, 422, "invalid_request")
        elsewhere = http.post(
            "/v1/assessments", json={"initiative": CHURN, "conversation_id": "c" * 32}, headers=auth
        )
        assert "no conversation" in assert_json_error(elsewhere, 409, "conflict")
        long = http.post("/v1/assessments", json={"initiative": "x" * 5000}, headers=auth)
        assert "the limit is" in assert_json_error(long, 422, "invalid_request")

        mine = http.post("/v1/assessments", json={"initiative": CHURN}, headers=auth).json()["id"]
        other = server.container.api_keys.create(["chat"], "other").key
        assert_json_error(
            http.get(f"/v1/assessments/{mine}", headers={"Authorization": f"Bearer {other}"}),
            404,
            "not_found",
        )
        search_only = server.container.api_keys.create(["search"], "search").key
        refused = http.post(
            "/v1/assessments", json={"initiative": CHURN}, headers={"Authorization": f"Bearer {search_only}"}
        )
        assert "'chat'" in assert_json_error(refused, 403, "forbidden")
        assert_json_error(http.post("/v1/assessments", json={"initiative": CHURN}), 401, "unauthorized")


def test_an_assessment_joins_a_conversation_later(fast_server: FastServer) -> None:
    with fast_server(api={"keys": [BOOTSTRAP]}) as server, server.client() as http:
        auth = {"Authorization": f"Bearer {BOOTSTRAP}"}
        made = http.post("/v1/assessments", json={"initiative": CHURN}, headers=auth).json()
        assert made["conversation_id"] is None
        chat = http.post("/v1/chat", json={"message": "Where do we start?"}, headers=auth).json()
        path = f"/v1/assessments/{made['id']}"
        assert_json_error(http.patch(path, json={"conversation_id": "c" * 32}, headers=auth), 409, "conflict")
        joined = http.patch(path, json={"conversation_id": chat["conversation_id"]}, headers=auth)
        assert joined.status_code == 200 and joined.json()["conversation_id"] == chat["conversation_id"]
        kept = http.patch(path, json={"answers": {"stage": "idea"}}, headers=auth).json()
        assert kept["conversation_id"] == chat["conversation_id"]  # a later change keeps the link


def test_an_assessment_from_chats_initiative_object(fast_server: FastServer) -> None:
    with fast_server() as server, server.client() as http:
        profile = {
            "industry": "telecom",
            "data": "data in three CRMs",
            "team": "two data scientists, no MLOps",
        }
        made = http.post("/v1/assessments", json={"initiative": profile})
        assert made.status_code == 201, made.text
        read = {a["question"]: a["choice"] for a in made.json()["answers"]}
        assert read == {"data_access": "scattered", "mlops": "manual", "team": "few"}
        assert made.json()["initiative"].startswith("industry: telecom; data: data in three CRMs")
        assert http.post("/v1/assessments", json={"initiative": {"colour": "red"}}).status_code == 422


def test_a_wrong_method_names_every_method_the_path_serves(fast_server: FastServer) -> None:
    with fast_server() as server, server.client() as http:
        refused = http.delete("/v1/assessments/abc")
        assert refused.status_code == 405
        assert set(refused.headers["allow"].split(", ")) == {"GET", "PATCH"}
