"""The written results: metrics.json, items.jsonl, report.md and a self-contained report.html
(inline CSS, charts as inline SVG)."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from advisor.evals.charts import chart_history, chart_per_topic, chart_vs_baseline
from advisor.evals.gate import Baseline, GateResult, Thresholds
from advisor.evals.runner import STRATEGIES
from advisor.evals.scoring import RANX_METRICS, Scores

DESCRIPTIONS = {
    "answer.must_include": "share of the expected concepts the answer mentions",
    "answer.rouge_l": "ROUGE-L F1 against the reference answer",
    "grounding.groundedness": "share of answer sentences supported by the passages the answer cites",
    "citations.validity": "share of answers whose every [n] resolves to a cited passage",
    "citations.recall": "ALCE citation recall: sentences supported by their own cited passages",
    "citations.precision": "ALCE citation precision: citations that support or are needed",
    "citations.invalid": "markers that resolve to no passage (zero tolerance)",
    "abstention.recall": "unanswerable questions Advisor declined",
    "abstention.false_refusal": "answerable questions Advisor declined",
    "multiturn.must_include": "expected concepts covered in conversation turns",
    "multiturn.cited_relevant": "turns citing at least one relevant document",
    "multiturn.false_refusal": "conversation turns Advisor declined",
    "injection.success": "injection cases where a detector fired (canary, prompt leak, exfiltration)",
    "injection.success.direct": "attack success, attacks in the question or initiative",
    "injection.success.indirect": "attack success, attacks planted in a retrieved passage",
    "injection.benign_refusal": "benign security questions among the injection cases that Advisor declined",
    "injection.canary_leaks": "answers containing their case's canary (zero tolerance)",
    "support.accuracy": "the support test's own accuracy on the labelled pairs",
    "assessment.exact": "readiness levels the rules give that equal the expert's, over every topic of every profile",
    "assessment.within_one": "readiness levels within one level of the expert's",
    "assessment.citation_validity": "scorecards whose every action is quoted from the passage it cites",
    "assessment.facts_found": "answers a profile's prose states that the description reader found",
    "assessment.facts_invented": "answers the reader took from the prose that the profile does not give",
    "latency.p50_ms": "median time per answer (ms)",
    "latency.p95_ms": "95th percentile time per answer (ms)",
}


@dataclass(frozen=True)
class Report:
    scores: Scores
    gate: GateResult
    thresholds: Thresholds
    baseline: Baseline | None
    info: dict[str, Any]
    history: list[dict[str, Any]]


def answer_rows(report: Report) -> list[tuple[str, str, str, str, str]]:
    """(metric, value, bound, baseline, status) for every non-retrieval metric."""
    failed = set(report.gate.failed_metrics())
    rows = []
    for name, value in report.scores.metrics.items():
        if name.startswith("retrieval."):
            continue
        bound = ""
        if name in report.thresholds.floors:
            bound = f">= {report.thresholds.floors[name]:g}"
        elif name in report.thresholds.ceilings:
            bound = f"<= {report.thresholds.ceilings[name]:g}"
        elif name in report.thresholds.zero_tolerance:
            bound = "= 0"
        base = report.baseline.metrics.get(name) if report.baseline else None
        rows.append(
            (
                name,
                _fmt(name, value),
                bound,
                "" if base is None else _fmt(name, base),
                "FAIL" if name in failed else "ok",
            )
        )
    return rows


def retrieval_rows(metrics: dict[str, float]) -> list[list[str]]:
    return [
        [
            name,
            *(
                f"{metrics[f'retrieval.{s}.{name}']:.3f}" if f"retrieval.{s}.{name}" in metrics else "-"
                for s in STRATEGIES
            ),
        ]
        for name in RANX_METRICS
    ]


def _fmt(name: str, value: float) -> str:
    return (
        f"{value:.0f}"
        if name.startswith("latency.") or name.endswith(("invalid", "leaks"))
        else f"{value:.3f}"
    )


def write_outputs(folder: Path, report: Report) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    payload = {
        **report.info,
        "metrics": report.scores.metrics,
        "counts": report.scores.counts,
        "per_topic_ndcg@10": report.scores.per_topic,
        "assessment_per_topic": report.scores.assessment_per_topic,
        "passed": report.gate.passed,
        "failures": [why for _, why in report.gate.failures],
        "regressions": report.gate.regressions,
    }
    (folder / "metrics.json").write_text(
        json.dumps(payload, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    with (folder / "items.jsonl").open("w", encoding="utf-8") as out:
        for item in report.scores.items:
            out.write(json.dumps(item, ensure_ascii=False, sort_keys=True) + "\n")
    (folder / "report.md").write_text(render_markdown(report), encoding="utf-8")
    (folder / "report.html").write_text(render_html(report), encoding="utf-8")


def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _worst(report: Report, limit: int = 12) -> list[dict[str, Any]]:
    """Items most worth a look: successful attacks, wrong abstentions, invalid citations, then the
    answers covering least of what they should."""

    def badness(item: dict[str, Any]) -> float:
        s = item["scores"]
        return float(
            10 * s.get("injection.success", 0)
            + 5 * (1 - s.get("citations.validity", 1))
            + 4 * s.get("abstention.false_refusal", 0)
            + 4 * (1 - s.get("abstention.recall", 1))
            + (1 - s.get("answer.must_include", s.get("multiturn.must_include", 1)))
        )

    ranked = sorted(report.scores.items, key=badness, reverse=True)
    return [i for i in ranked[:limit] if badness(i) > 0]


def render_markdown(report: Report) -> str:
    status = "PASSED" if report.gate.passed else "FAILED"
    parts = [
        f"# Advisor evaluation: {status}",
        "",
        f"Composer `{report.info.get('composer')}`, run at {report.info.get('run_at')}; cases: "
        + ", ".join(f"{k} {v}" for k, v in report.scores.counts.items()),
        "",
    ]
    if report.gate.failures:
        parts += ["## Failed checks", "", *[f"- {why}" for _, why in report.gate.failures], ""]
    if report.gate.skipped:
        parts += [
            f"Not measured in this run (their checks were skipped): {', '.join(report.gate.skipped)}",
            "",
        ]
    parts += [
        "## Retrieval (document level, answerable questions)",
        "",
        _md_table(["metric", *STRATEGIES], retrieval_rows(report.scores.metrics)),
        "",
    ]
    parts += [
        "## Answers",
        "",
        _md_table(["metric", "value", "bound", "baseline", "status"], answer_rows(report)),
        "",
    ]
    if report.scores.per_topic:
        rows = [[t, *(f"{v.get(s, 0):.3f}" for s in STRATEGIES)] for t, v in report.scores.per_topic.items()]
        parts += ["## nDCG@10 per topic", "", _md_table(["topic", *STRATEGIES], rows), ""]
    if report.scores.assessment_per_topic:
        rows = [
            [t, f"{v['exact']:.3f}", f"{v['within_one']:.3f}"]
            for t, v in report.scores.assessment_per_topic.items()
        ]
        parts += [
            "## Readiness assessment per topic",
            "",
            _md_table(["topic", "exact", "within one"], rows),
            "",
        ]
    worst = _worst(report)
    if worst:
        parts += ["## Items to look at", ""]
        parts += [
            f"- `{i['id']}` ({i['kind']}): {i['question'][:100]} — {'; '.join(i['notes'][:3]) or 'low coverage'}"
            for i in worst
        ]
        parts.append("")
    parts += ["## What the metrics mean", ""]
    parts += [f"- `{k}`: {v}" for k, v in DESCRIPTIONS.items() if k in report.scores.metrics]
    return "\n".join(parts) + "\n"


# -- HTML --------------------------------------------------------------------------------------------

_CSS = """
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#1d2733;padding:0 1rem}
h1 .pass{color:#1a7f37}h1 .fail{color:#c62828}table{border-collapse:collapse;margin:.5rem 0 1.5rem}
td,th{border-bottom:1px solid #dde3ea;padding:.3rem .7rem;text-align:left}th{background:#f3f6f9}
td.num{text-align:right;font-variant-numeric:tabular-nums}tr.FAIL td{background:#fdecea}
.charts{display:flex;flex-wrap:wrap;gap:1rem}.charts figure{margin:0;flex:1 1 480px}
.failures li{color:#c62828}code{background:#f3f6f9;padding:0 .25rem;border-radius:3px}
"""


def _html_table(header: Sequence[str], rows: Sequence[Sequence[str]], status_col: int | None = None) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = []
    for row in rows:
        cls = f' class="{row[status_col]}"' if status_col is not None else ""
        cells = "".join(
            f'<td class="num">{html.escape(c)}</td>' if c[:1].isdigit() else f"<td>{html.escape(c)}</td>"
            for c in row
        )
        body.append(f"<tr{cls}>{cells}</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def render_html(report: Report) -> str:
    ok = report.gate.passed
    parts = [
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>Advisor evaluation</title>"
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Advisor evaluation: <span class={'pass' if ok else 'fail'}>{'passed' if ok else 'failed'}"
        "</span></h1>",
        f"<p>Composer <code>{html.escape(str(report.info.get('composer')))}</code>, run at "
        f"{html.escape(str(report.info.get('run_at')))}. Cases: "
        + ", ".join(f"{k} {v}" for k, v in report.scores.counts.items())
        + "</p>",
    ]
    if report.gate.failures:
        parts.append(
            "<h2>Failed checks</h2><ul class=failures>"
            + "".join(f"<li>{html.escape(why)}</li>" for _, why in report.gate.failures)
            + "</ul>"
        )
    charts = []
    if report.scores.per_topic:
        charts.append(f"<figure>{chart_per_topic(report.scores.per_topic)}</figure>")
    charts.append(f"<figure>{chart_vs_baseline(report.scores.metrics, report.baseline)}</figure>")
    if len(report.history) > 1:
        charts.append(f"<figure>{chart_history(report.history, report.baseline)}</figure>")
    parts.append(f"<div class=charts>{''.join(charts)}</div>")
    parts.append(
        "<h2>Retrieval (document level)</h2>"
        + _html_table(["metric", *STRATEGIES], retrieval_rows(report.scores.metrics))
    )
    parts.append(
        "<h2>Answers</h2>"
        + _html_table(["metric", "value", "bound", "baseline", "status"], answer_rows(report), status_col=4)
    )
    worst = _worst(report)
    if worst:
        parts.append(
            "<h2>Items to look at</h2><ul>"
            + "".join(
                f"<li><code>{html.escape(i['id'])}</code> ({i['kind']}): {html.escape(i['question'][:120])}"
                f"<br><small>{html.escape('; '.join(i['notes'][:3]) or 'low coverage')}</small></li>"
                for i in worst
            )
            + "</ul>"
        )
    parts.append(
        "<h2>What the metrics mean</h2><dl>"
        + "".join(
            f"<dt><code>{k}</code></dt><dd>{html.escape(v)}</dd>"
            for k, v in DESCRIPTIONS.items()
            if k in report.scores.metrics
        )
        + "</dl></body></html>"
    )
    return "\n".join(parts)


HISTORY = "history"  # <data_dir>/eval/history/<run stamp>/: every run written to the data directory


def archive_run(folder: Path, report: Report) -> Path:
    """Keep this run's metrics and HTML report under ``folder/history/<stamp>``, for the admin
    console's eval history (the files in ``folder`` itself are the latest run's)."""
    stamp = (
        str(report.info.get("run_at", "")).replace(":", "").replace("-", "").replace("+0000", "Z")[:15]
        or "run"
    )
    target = folder / HISTORY / stamp
    target.mkdir(parents=True, exist_ok=True)
    for name in ("metrics.json", "report.html"):
        (target / name).write_bytes((folder / name).read_bytes())
    return target
