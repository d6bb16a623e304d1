"""`/advisor assess` (fast tier, real HTTP, the fake Slack Web API): the command opens a Block Kit
modal with the description and the guided questions; submitting it scores the initiative and the
scorecard arrives in a direct message; an empty form is refused in the modal itself."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from advisor.slack.assess import CALLBACK, DESCRIPTION
from tests.fakes.slack_api import TEAM_ID, FakeSlackAPI
from tests.plugins.fast import FastServer
from tests.slack.helpers import CHANNEL, USER, SlackSender, slack_settings

DESCRIBED = "churn model, data in three CRMs, two data scientists, no MLOps"


def _submit(sender: SlackSender, view: dict[str, Any], values: dict[str, Any]) -> Any:
    payload = {
        "type": "view_submission",
        "team": {"id": TEAM_ID, "domain": "advisor-test"},
        "user": {"id": USER, "team_id": TEAM_ID},
        "api_app_id": "A0ADVISOR",
        "token": "legacy-verification-token",
        "trigger_id": "1337.42.ijkl",
        "view": {**view, "id": "V0SUBMITTED", "state": {"values": values}},
    }
    return sender.post(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")


def _typed(text: str) -> dict[str, Any]:
    return {"value": {"type": "plain_text_input", "value": text}}


def _picked(choice: str) -> dict[str, Any]:
    return {
        "value": {
            "type": "static_select",
            "selected_option": {"value": choice, "text": {"type": "plain_text", "text": choice}},
        }
    }


def test_the_assess_command_opens_a_modal_and_the_scorecard_comes_by_dm(
    fast_server: FastServer, fake_slack: FakeSlackAPI
) -> None:
    with fast_server(slack=slack_settings(fake_slack)) as server, server.client() as http:
        sender = SlackSender(http)
        acked = sender.command(f"assess {DESCRIBED}", fake_slack.response_url("assess-1"))
        assert acked.status_code == 200 and acked.text == ""
        (opened,) = fake_slack.wait_for_calls("views.open")
        view = opened.args["view"]
        view = json.loads(view) if isinstance(view, str) else view
        assert opened.args["trigger_id"] == "1337.42.abcd" and view["callback_id"] == CALLBACK
        blocks = view["blocks"]
        assert blocks[0]["element"]["initial_value"] == DESCRIBED
        assert len(blocks) == 1 + len(server.container.assessor.rules.questions)
        options = [o for b in blocks[1:] for o in b["element"]["options"]]
        assert all(len(o["text"]["text"]) <= 75 for o in options)
        assert json.loads(view["private_metadata"]) == {"team": TEAM_ID, "channel": CHANNEL, "user": USER}

        refused = _submit(sender, view, {DESCRIPTION: _typed("")})
        assert refused.status_code == 200 and refused.json()["response_action"] == "errors"
        assert DESCRIPTION in refused.json()["errors"]

        values = {DESCRIPTION: _typed(DESCRIBED), "advisor_assess_q_monitoring": _picked("none")}
        closed = _submit(sender, view, values)
        assert closed.status_code == 200 and closed.text in ("", "null")
        (posted,) = fake_slack.wait_for_calls("chat.postMessage")
        assert posted.args["channel"] == USER  # a direct message, not the channel
        text = json.dumps(posted.args["blocks"], ensure_ascii=False)
        assert "Readiness of your initiative" in text
        assert ":red_circle: *infrastructure*: not ready (1 of 4) — you said “no MLOps”" in text
        assert ":red_circle: *monitoring*: not ready (1 of 4)" in text
        assert "*Next 30 days*" in text and "*Sources:*" in text
        assert len(fake_slack.calls_to("chat.postMessage")) == 1  # nothing for the refused form
