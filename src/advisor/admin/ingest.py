"""Re-ingest from the console: every registered source is read again in a background thread of this
replica (one writer at a time, the index switch atomic, as with `advisor ingest`), and its progress
is written to the database, so the progress page works on whichever replica serves it."""

from __future__ import annotations

import logging
import threading
import time
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from advisor.admin.common import Admin, form_refusal, page
from advisor.api.deps import ContainerDep
from advisor.container import Container

router = APIRouter(prefix="/admin/corpus/ingest", include_in_schema=False)
log = logging.getLogger(__name__)
_PROGRESS_EVERY = 0.5  # seconds between progress writes


def run_ingest(container: Container, run_id: str, force: bool) -> None:
    """The ingest of one console run, its progress and outcome written to the run's row."""
    from advisor.ingest.indexer import IngestError
    from advisor.ingest.sources import describe, registered_sources

    runs = container.ingest_runs
    try:
        sources = registered_sources(container.index_repository.sources(), container.settings.knowledge_dir)
        runs.progress(run_id, 0, 0, f"reading {describe(sources)}")
        written = [0.0]

        def on_progress(done: int, total: int) -> None:
            now = time.monotonic()
            if done >= total or now - written[0] >= _PROGRESS_EVERY:
                written[0] = now
                runs.progress(run_id, done, total, f"embedding changed documents: {done} of {total} chunks")

        report = container.indexer.ingest_sources(sources, force=force, on_progress=on_progress)
    except IngestError as exc:
        runs.finish(run_id, True, str(exc))
        return
    except Exception as exc:  # the page must say why, whatever it was
        log.exception("console ingest %s failed", run_id)
        runs.finish(run_id, True, f"{type(exc).__name__}: {exc}")
        return
    skipped = "".join(f"; skipped {problem}" for problem in report.skipped)
    runs.finish(run_id, bool(report.skipped), report.summary() + skipped)


@router.post("")
async def start(
    request: Request,
    container: ContainerDep,
    admin: Admin,
    csrf: Annotated[str | None, Form()] = None,
    force: Annotated[str, Form()] = "",
) -> Response:
    if (refusal := form_refusal(request, admin, csrf)) is not None:
        return refusal
    latest = await run_in_threadpool(container.ingest_runs.latest)
    if latest is not None and latest.running and not latest.silent:
        return RedirectResponse(f"/admin/corpus/ingest/{latest.id}", status_code=303)
    everything = force == "1"
    run = await run_in_threadpool(
        container.ingest_runs.start, admin.key_id, "re-embedding every document" if everything else "starting"
    )
    threading.Thread(
        target=run_ingest, args=(container, run.id, everything), name=f"ingest-{run.id[:8]}", daemon=True
    ).start()
    await run_in_threadpool(container.admin_store.audit, admin.key_id, "re-ingest", run.id)
    return RedirectResponse(f"/admin/corpus/ingest/{run.id}", status_code=303)


@router.get("/{run_id}")
async def progress(request: Request, container: ContainerDep, admin: Admin, run_id: str) -> Response:
    run = await run_in_threadpool(container.ingest_runs.get, run_id[:36])
    if run is None:
        return page(request, "refused.html", 404, admin=admin, reason=f"no ingest run {run_id[:36]}")
    return page(request, "ingest.html", admin=admin, run=run)
