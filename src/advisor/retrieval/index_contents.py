"""What the retriever keeps in memory for one index collection, and its stored form.

Reading every chunk's text back from Chroma and re-tokenising it for BM25 took a replica half a
minute at 100k chunks. The ingest that builds a collection does it once instead, and stores the
result beside the collection's rows in the database (``Store.activate_index``); a replica that
starts, or switches to a new index, reads that one row. The stored form is a zip of JSON and the
files bm25s itself saves: no pickle, so a row read from a shared database cannot run code.
"""

from __future__ import annotations

import io
import json
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from advisor.components.sparse import SparseIndex

if TYPE_CHECKING:
    from chromadb.api.models.Collection import Collection

# Bump when the stored form changes: an index stored in an older form is rebuilt from Chroma.
FORMAT = 1
_LOAD_PAGE = 5000
_UNUSED_METADATA = frozenset({"content_hash"})
WORD = re.compile(r"[a-z]+")


class StoredFormError(ValueError):
    """The stored contents are in another format or damaged: rebuild them from the collection."""


@dataclass(frozen=True)
class IndexContents:
    ids: list[str]
    metadatas: list[dict[str, Any]]
    sparse: SparseIndex
    vocabulary: tuple[str, ...]  # sorted lower-case words of the corpus


def read_collection(collection: Collection) -> IndexContents:
    """Everything the retriever needs, read from the collection and indexed for BM25."""
    ids: list[str] = []
    metadatas: list[dict[str, Any]] = []
    documents: list[str] = []
    shared: dict[str, str] = {}
    # In pages: one unbounded get of a large collection is far slower than its pages (and
    # can exceed SQLite's variable limit). An index collection never changes once built.
    while True:
        got = collection.get(limit=_LOAD_PAGE, offset=len(ids), include=["documents", "metadatas"])
        ids += got["ids"]
        metadatas += [compact_metadata(m, shared) for m in (got["metadatas"] or [])]
        documents += got["documents"] or []
        if len(got["ids"]) < _LOAD_PAGE:
            break
    vocabulary = tuple(sorted({w for text in documents for w in WORD.findall(text.lower())}))
    return IndexContents(ids, metadatas, SparseIndex(documents), vocabulary)


def encode(contents: IndexContents) -> bytes:
    meta = {
        "format": FORMAT,
        "ids": contents.ids,
        "metadatas": contents.metadatas,
        "vocabulary": contents.vocabulary,
    }
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory(prefix="advisor-sparse-") as tmp:
        contents.sparse.save(Path(tmp))
        # Deflate at level 1: a third of the size for little time either way.
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
            archive.writestr("contents.json", json.dumps(meta, separators=(",", ":")))
            for path in sorted(Path(tmp).iterdir()):
                archive.write(path, f"sparse/{path.name}")
    return buffer.getvalue()


def decode(blob: bytes) -> IndexContents:
    """The contents ``encode`` stored; StoredFormError when they are in another format or damaged."""
    try:
        with zipfile.ZipFile(io.BytesIO(blob)) as archive:
            meta = json.loads(archive.read("contents.json"))
            if not isinstance(meta, dict) or meta.get("format") != FORMAT:
                found = meta.get("format") if isinstance(meta, dict) else None
                raise StoredFormError(f"stored index contents are format {found}, expected {FORMAT}")
            ids: list[str] = meta["ids"]
            shared: dict[str, str] = {}
            metadatas = [compact_metadata(m, shared) for m in meta["metadatas"]]
            with tempfile.TemporaryDirectory(prefix="advisor-sparse-") as tmp:
                for name in archive.namelist():
                    if name.startswith("sparse/") and "/" not in name[len("sparse/") :]:
                        (Path(tmp) / name[len("sparse/") :]).write_bytes(archive.read(name))
                sparse = SparseIndex.load(Path(tmp), len(ids))
    except StoredFormError:
        raise
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError) as exc:
        raise StoredFormError(f"stored index contents are unreadable: {exc}") from exc
    if len(metadatas) != len(ids):
        raise StoredFormError("stored index contents disagree: ids and metadata differ in length")
    return IndexContents(ids, metadatas, sparse, tuple(meta["vocabulary"]))


def compact_metadata(metadata: Any, shared: dict[str, str]) -> dict[str, Any]:
    """A chunk's metadata as kept in memory for every chunk of the index: without the fields a
    search never reads, and with the strings all chunks of a document repeat (title, source, topics)
    stored once, which at 100k chunks is the difference of a few hundred megabytes."""
    compact: dict[str, Any] = {}
    for key, value in metadata.items():
        if key in _UNUSED_METADATA:
            continue
        if isinstance(value, str) and key != "text":
            value = shared.setdefault(value, value)
        elif isinstance(value, list):
            value = [shared.setdefault(v, v) if isinstance(v, str) else v for v in value]
        compact[shared.setdefault(key, key)] = value
    return compact
