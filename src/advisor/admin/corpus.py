"""The console's corpus: the sources and their documents, one document opened whole, uploads
(checked with the rules of `advisor corpus check`, then ingested as the source `uploads`), deleting an
uploaded document, and removing a whole source. Each change is an ingest: one writer at a time, and
the index switch stays atomic."""

from __future__ import annotations

import re
import shutil
import tempfile
from collections import Counter
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from advisor.admin.common import Admin, form_refusal, page
from advisor.api.deps import ContainerDep
from advisor.container import Container

router = APIRouter(prefix="/admin/corpus", include_in_schema=False)
UPLOADS = "uploads"  # the source uploaded documents go to
_MAX_BYTES = 5 * 1024 * 1024
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,100}\.(md|markdown|txt|html|htm|pdf)$")


def uploads_dir(container: Container) -> Path:
    return container.settings.data_dir / UPLOADS


def _listing(container: Container) -> dict[str, Any]:
    repo = container.index_repository
    state = repo.get_index_state()
    documents = (
        sorted(repo.indexed_documents(state.collection).values(), key=lambda d: (d.source_name, d.doc_id))
        if state
        else []
    )
    counts = Counter(d.source_name for d in documents)
    latest = container.ingest_runs.latest()
    return {"documents": documents, "sources": repo.sources(), "counts": counts, "latest": latest}


@router.get("")
async def corpus(request: Request, container: ContainerDep, admin: Admin) -> Response:
    return page(request, "corpus.html", admin=admin, **await run_in_threadpool(_listing, container))


@router.get("/documents/{doc_id}")
async def document(request: Request, container: ContainerDep, admin: Admin, doc_id: str) -> Response:
    found = await run_in_threadpool(container.retriever.document, doc_id[:512])
    if found is None:
        return page(request, "refused.html", 404, admin=admin, reason=f"no document {doc_id[:80]!r}")
    return page(request, "document.html", admin=admin, document=found)


def _ingest_uploads(container: Container) -> list[str]:
    """Ingest the uploads folder as its source; what it skipped (e.g. an id another source holds)."""
    report = container.indexer.ingest([uploads_dir(container)], name=UPLOADS)
    return report.skipped


@router.post("/upload")
async def upload(
    request: Request,
    container: ContainerDep,
    admin: Admin,
    file: UploadFile,
    csrf: Annotated[str | None, Form()] = None,
    replace: Annotated[str, Form()] = "",
) -> Response:
    if (refusal := form_refusal(request, admin, csrf)) is not None:
        return refusal
    name = file.filename or ""  # a name with a folder in it fails the pattern below
    data = await file.read(_MAX_BYTES + 1)
    problems = []
    if not _NAME.match(name):
        problems.append(
            f"{name or 'the file'}: name it like guidance.md (letters, digits, . _ -; .md, .txt, .html or .pdf)"
        )
    elif len(data) > _MAX_BYTES:
        problems.append(f"{name}: larger than {_MAX_BYTES // (1024 * 1024)} MB")
    elif (uploads_dir(container) / name).exists() and replace != "1":
        problems.append(f"{name}: already uploaded; tick 'replace' to put this version in its place")
    else:
        problems = await run_in_threadpool(_check_and_ingest, container, name, data)
    if problems:
        listing = await run_in_threadpool(_listing, container)
        return page(request, "corpus.html", 422, admin=admin, problems=problems, **listing)
    action = "replace document" if replace == "1" else "upload document"
    await run_in_threadpool(container.admin_store.audit, admin.key_id, action, name)
    return RedirectResponse("/admin/corpus", status_code=303)


def _check_and_ingest(container: Container, name: str, data: bytes) -> list[str]:
    """Refused with the corpus check's reasons, or stored (in place of an earlier version) and
    ingested; undone, the earlier version back, if the ingest skips it or cannot run."""
    from advisor.corpus.check import check_corpus
    from advisor.ingest.indexer import IngestError

    with tempfile.TemporaryDirectory(prefix="advisor-upload-") as scratch:
        staged = Path(scratch) / name
        staged.write_bytes(data)
        problems = [str(p).replace(str(staged), name) for p in check_corpus(staged)]
        if problems:
            return problems
        target = uploads_dir(container)
        target.mkdir(parents=True, exist_ok=True)
        earlier = (target / name).read_bytes() if (target / name).exists() else None
        shutil.copyfile(staged, target / name)

    def undo() -> None:
        if earlier is None:
            (target / name).unlink()
        else:
            (target / name).write_bytes(earlier)

    try:
        skipped = _ingest_uploads(container)
    except IngestError as exc:
        undo()
        return [f"{name}: not indexed: {exc}"]
    mine = [s for s in skipped if name in s]
    if mine:
        undo()
        _ingest_uploads(container)
    return mine


@router.post("/documents/{doc_id}/delete")
async def delete_document(
    request: Request,
    container: ContainerDep,
    admin: Admin,
    doc_id: str,
    csrf: Annotated[str | None, Form()] = None,
) -> Response:
    if (refusal := form_refusal(request, admin, csrf)) is not None:
        return refusal

    def remove() -> bool:
        state = container.index_repository.get_index_state()
        record = container.index_repository.indexed_documents(state.collection).get(doc_id) if state else None
        if record is None or record.source_name != UPLOADS:
            return False
        (uploads_dir(container) / record.source).unlink(missing_ok=True)
        _ingest_uploads(container)
        return True

    if not await run_in_threadpool(remove):
        return page(
            request, "refused.html", 409, admin=admin, reason=f"{doc_id[:80]} is not an uploaded document"
        )
    await run_in_threadpool(container.admin_store.audit, admin.key_id, "delete document", doc_id)
    return RedirectResponse("/admin/corpus", status_code=303)


@router.post("/sources/{name}/remove")
async def remove_source(
    request: Request,
    container: ContainerDep,
    admin: Admin,
    name: str,
    csrf: Annotated[str | None, Form()] = None,
) -> Response:
    if (refusal := form_refusal(request, admin, csrf)) is not None:
        return refusal
    from advisor.ingest.indexer import IngestError

    try:
        report = await run_in_threadpool(container.indexer.remove_source, name[:64])
    except IngestError as exc:
        return page(request, "refused.html", 409, admin=admin, reason=str(exc))
    await run_in_threadpool(
        container.admin_store.audit, admin.key_id, "remove source", f"{name}: {report.removed} documents"
    )
    return RedirectResponse("/admin/corpus", status_code=303)
