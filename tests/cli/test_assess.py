"""`advisor assess` (fast tier): from a description, a profile file and answers; the scorecard
printed, the JSON and the standalone HTML report written; bad input named with its file and line."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Invoke
from tests.plugins.fast import FastContainer


def test_assess_prints_the_scorecard_and_writes_json_and_html(
    fast_container: FastContainer, invoke: Invoke, tmp_path: Path
) -> None:
    container = fast_container()
    profile = tmp_path / "churn.yaml"
    profile.write_text("initiative: churn model, data in three CRMs\nanswers:\n  monitoring: none\n")
    out, page = tmp_path / "a.json", tmp_path / "a.html"
    done = invoke(
        container, "assess", "--file", str(profile), "-i", "two data scientists, no MLOps",
        "--answer", "objective=goal", "--json", str(out), "--html", str(page),
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "Readiness" in done.stdout and "Next 30 days" in done.stdout and "Sources" in done.stdout
    data = json.loads(out.read_text())
    levels = {t["topic"]: t["level"] for t in data["scorecard"]["topics"]}
    assert levels["infrastructure"] == 1 and levels["monitoring"] == 1 and levels["business-objectives"] == 2
    assert {a["question"]: a["source"] for a in data["answers"]}["mlops"] == "read"
    assert data["scorecard"]["plan"] and all(p["n"] >= 1 for p in data["scorecard"]["plan"])
    assert "data in three CRMs" in page.read_text()

    printed = invoke(container, "assess", "-i", "no MLOps", "--json", "-")
    assert printed.exit_code == 0 and json.loads(printed.stdout)["answers"][0]["choice"] == "manual"


def test_assess_names_what_is_wrong(fast_container: FastContainer, invoke: Invoke, tmp_path: Path) -> None:
    container = fast_container()
    nothing = invoke(container, "assess")
    assert nothing.exit_code == 2 and "describe the initiative" in nothing.stderr
    wrong = invoke(container, "assess", "-i", "x", "--answer", "mlops")
    assert wrong.exit_code == 2 and "question=choice" in wrong.stderr
    unknown = invoke(container, "assess", "-i", "x", "--answer", "mlops=some")
    assert unknown.exit_code == 2 and "has no answer 'some'" in unknown.stderr
    broken = tmp_path / "bad.yaml"
    broken.write_text("initiative: fine\nanswers: [unclosed\n")
    refused = invoke(container, "assess", "--file", str(broken))
    assert refused.exit_code == 2 and f"{broken}:" in refused.stderr and "not valid YAML" in refused.stderr
