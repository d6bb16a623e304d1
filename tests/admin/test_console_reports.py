"""The console's reports (fast tier): the knowledge-gaps page and the eval history."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

from advisor.store.conversations import MessageDraft, NewConversation
from advisor.store.models import new_id
from tests.admin.test_console_http import BOOTSTRAP, _sign_in
from tests.plugins.fast import FastServer

PARKING = [
    "Where can visitors park their cars at the Leeds office car park?",
    "Is the Leeds office car park free for visitors to park cars?",
]


def test_the_gaps_page_shows_a_cluster_seeded_by_abstained_questions(fast_server: FastServer) -> None:
    with fast_server(api={"keys": [BOOTSTRAP]}) as server, server.client() as http:
        for question in PARKING:
            server.container.conversations.record_turn(
                new_id(),
                question,
                MessageDraft("I can't answer that.", abstained=True),
                new_conversation=NewConversation(None, None, "widget"),
            )
        _sign_in(http, BOOTSTRAP)
        gaps = http.get("/admin/gaps", params={"days": 7})
        assert gaps.status_code == 200
        assert "2 questions, 1 clusters" in " ".join(gaps.text.split())
        assert "2 abstained" in gaps.text and PARKING[0] in gaps.text


def test_the_eval_history_lists_runs_and_serves_their_reports(fast_server: FastServer) -> None:
    with fast_server(api={"keys": [BOOTSTRAP]}) as server, server.client() as http:
        history = server.container.settings.data_dir / "eval" / "history"
        for stamp, value, passed in (("20261201T100000", 0.61, True), ("20261203T100000", 0.55, False)):
            folder = history / stamp
            folder.mkdir(parents=True)
            metrics = {"answer.must_include": value, "retrieval.hybrid.recall@5": 0.72}
            (folder / "metrics.json").write_text(
                json.dumps({"run_at": stamp, "composer": "extractive", "passed": passed, "metrics": metrics})
            )
            (folder / "report.html").write_text(f"<h1>run {stamp}</h1>")
        _sign_in(http, BOOTSTRAP)
        listed = http.get("/admin/evals").text
        assert listed.index("20261203T100000") < listed.index("20261201T100000")  # newest first
        assert "0.550" in listed and "0.610" in listed and "failed" in listed and "passed" in listed
        report = http.get("/admin/evals/20261201T100000/report.html")
        assert report.status_code == 200 and "run 20261201T100000" in report.text
        assert http.get("/admin/evals/..%2f..%2fadvisor.db/report.html").status_code == 404
        assert http.get("/admin/evals/20990101T000000/report.html").status_code == 404


def test_a_run_written_to_the_data_directory_is_archived_for_the_history(tmp_path: Path) -> None:
    from advisor.evals.report import archive_run

    (tmp_path / "metrics.json").write_text('{"run_at": "2026-12-05T00:20:14+00:00"}')
    (tmp_path / "report.html").write_text("<h1>latest</h1>")
    kept = archive_run(tmp_path, SimpleNamespace(info={"run_at": "2026-12-05T00:20:14+00:00"}))  # type: ignore[arg-type]
    assert kept == tmp_path / "history" / "20261205T002014"
    assert (kept / "report.html").read_text() == "<h1>latest</h1>" and (kept / "metrics.json").is_file()
