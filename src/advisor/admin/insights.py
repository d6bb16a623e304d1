"""The console's reports: knowledge gaps (advisor.chat.gaps, as `advisor gaps` prints them) and the
history of `advisor eval` runs written to the data directory."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from starlette.concurrency import run_in_threadpool

from advisor.admin.common import Admin, page
from advisor.api.deps import ContainerDep
from advisor.container import Container

router = APIRouter(prefix="/admin", include_in_schema=False)
_STAMP = re.compile(r"^\d{8}T\d{6}$")
HEADLINES = (
    ("answer.must_include", "key points in answers"),
    ("multiturn.must_include", "key points, follow-ups"),
    ("retrieval.hybrid.recall@5", "recall@5"),
    ("abstention.false_refusal", "false refusals"),
    ("citations.validity", "valid citations"),
)


@router.get("/gaps")
async def gaps(request: Request, container: ContainerDep, admin: Admin, days: int = 30) -> Response:
    days = days if days in (7, 30, 90) else 30

    def report() -> Any:
        from advisor.chat.gaps import find_gaps
        from advisor.corpus.taxonomy import load_topics

        since = datetime.now(UTC) - timedelta(days=days)
        questions = container.conversations.gap_questions(since)
        topics = load_topics(container.settings.knowledge_dir)
        return find_gaps(questions, container.embedder, container.retriever, topics, since)

    return page(request, "gaps.html", admin=admin, days=days, report=await run_in_threadpool(report))


def _runs(container: Container) -> list[dict[str, Any]]:
    history = container.settings.data_dir / "eval" / "history"
    runs = []
    for folder in sorted(history.glob("*T*"), reverse=True)[:50]:
        try:
            data = json.loads((folder / "metrics.json").read_text())
        except (OSError, ValueError):
            continue
        metrics = data.get("metrics", {})
        runs.append(
            {
                "stamp": folder.name,
                "run_at": data.get("run_at", folder.name),
                "composer": data.get("composer", ""),
                "passed": data.get("passed"),
                "headlines": [(label, metrics.get(name)) for name, label in HEADLINES],
            }
        )
    return runs


@router.get("/evals")
async def evals(request: Request, container: ContainerDep, admin: Admin) -> Response:
    runs = await run_in_threadpool(_runs, container)
    return page(request, "evals.html", admin=admin, runs=runs, labels=[label for _, label in HEADLINES])


@router.get("/evals/{stamp}/report.html", response_model=None)
async def eval_report(request: Request, container: ContainerDep, admin: Admin, stamp: str) -> Response:
    path = container.settings.data_dir / "eval" / "history" / stamp / "report.html"
    if not _STAMP.match(stamp) or not path.is_file():
        return page(request, "refused.html", 404, admin=admin, reason=f"no eval run {stamp[:20]!r}")
    return FileResponse(path, media_type="text/html")
