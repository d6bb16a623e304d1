"""What the retriever keeps in memory for one index collection, and its stored form.

Reading every chunk's text back from the vector store and re-tokenising it for BM25 took a replica
half a minute at 100k chunks. The ingest that builds a collection does it once instead, and stores the
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
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

from advisor.components.sparse import SparseIndex

if TYPE_CHECKING:
    from advisor.components.vector_store import VectorCollection

# Bump when the stored form changes: an index stored in an older form is rebuilt from the collection.
FORMAT = 2
_LOAD_PAGE = 5000
_UNUSED_METADATA = frozenset({"content_hash"})
WORD = re.compile(r"[a-z]+")


class StoredFormError(ValueError):
    """The stored contents are in another format or damaged: rebuild them from the collection."""


class MetadataTable(Sequence[dict[str, Any]]):
    """Every chunk's metadata, kept by field: one list per field instead of one dict per chunk.

    A chunk's dict is built when asked for (a search asks for a few dozen); values chunks share
    (a document's title, source, topics) are one object. At 100k chunks this saves the time of
    building 100k dicts at start and their memory.
    """

    def __init__(self, fields: dict[str, list[Any]], count: int) -> None:
        for key, values in fields.items():
            if len(values) != count:
                raise StoredFormError(f"metadata field {key!r} has {len(values)} values for {count} chunks")
        self._fields = fields
        self._count = count

    @classmethod
    def from_rows(cls, rows: Sequence[dict[str, Any]]) -> MetadataTable:
        keys = dict.fromkeys(key for row in rows for key in row)
        return cls({key: [row.get(key) for row in rows] for key in keys}, len(rows))

    def fields(self) -> list[str]:
        return list(self._fields)

    def column(self, key: str) -> list[Any]:
        """One field for every chunk, None where a chunk lacks it."""
        return self._fields.get(key) or [None] * self._count

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...
    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._count))]
        if not -self._count <= index < self._count:
            raise IndexError(index)
        return {key: values[index] for key, values in self._fields.items() if values[index] is not None}

    def __eq__(self, other: object) -> bool:
        if isinstance(other, MetadataTable):
            return len(self) == len(other) and list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True)
class IndexContents:
    ids: list[str]
    metadatas: MetadataTable
    sparse: SparseIndex
    vocabulary: tuple[str, ...]  # sorted lower-case words of the corpus


def read_collection(collection: VectorCollection) -> IndexContents:
    """Everything the retriever needs, read from the collection and indexed for BM25."""
    ids: list[str] = []
    metadatas: list[dict[str, Any]] = []
    documents: list[str] = []
    shared: dict[str, str] = {}
    # In pages: one unbounded get of a large collection is far slower than its pages (and
    # can exceed SQLite's variable limit). An index collection never changes once built.
    while True:
        got = collection.get(limit=_LOAD_PAGE, offset=len(ids), documents=True, metadatas=True)
        ids += got.ids
        metadatas += [compact_metadata(m, shared) for m in (got.metadatas or [])]
        documents += got.documents or []
        if len(got.ids) < _LOAD_PAGE:
            break
    vocabulary = tuple(sorted({w for text in documents for w in WORD.findall(text.lower())}))
    return IndexContents(ids, MetadataTable.from_rows(metadatas), SparseIndex(documents), vocabulary)


def encode(contents: IndexContents) -> bytes:
    meta = {
        "format": FORMAT,
        "ids": contents.ids,
        "metadata": _columns(contents.metadatas),
        "chunks": len(contents.ids),
        "vocabulary": contents.vocabulary,
    }
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory(prefix="advisor-sparse-") as tmp:
        contents.sparse.save(Path(tmp))
        # Stored, not deflated: at 100k chunks inflating took 0.6 s of a replica's start, while
        # reading the three times larger row from the database takes 0.1 s more.
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
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
            metadatas = _table(meta["metadata"], len(ids))
            with tempfile.TemporaryDirectory(prefix="advisor-sparse-") as tmp:
                for name in archive.namelist():
                    if name.startswith("sparse/") and "/" not in name[len("sparse/") :]:
                        (Path(tmp) / name[len("sparse/") :]).write_bytes(archive.read(name))
                sparse = SparseIndex.load(Path(tmp), len(ids))
    except StoredFormError:
        raise
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError) as exc:
        raise StoredFormError(f"stored index contents are unreadable: {exc}") from exc
    return IndexContents(ids, metadatas, sparse, tuple(meta["vocabulary"]))


def _columns(metadatas: MetadataTable) -> dict[str, dict[str, list[Any]]]:
    """Metadata stored by field: a field most chunks share with others (a document's title, source,
    topics; a section heading) as a table of distinct values and an index into it, the rest as is.
    A third of the size of one object per chunk, and decoded with the values already shared."""
    columns: dict[str, dict[str, list[Any]]] = {}
    for key in metadatas.fields():
        values = metadatas.column(key)
        distinct: dict[Any, int] = {}
        index = [distinct.setdefault(tuple(v) if isinstance(v, list) else v, len(distinct)) for v in values]
        if len(distinct) * 2 <= len(values):
            table = [list(v) if isinstance(v, tuple) else v for v in distinct]
            columns[key] = {"values": table, "index": index}
        else:
            columns[key] = {"plain": values}
    return columns


def _table(columns: dict[str, dict[str, list[Any]]], count: int) -> MetadataTable:
    fields: dict[str, list[Any]] = {}
    for key, column in columns.items():
        if "values" in column:
            table = column["values"]
            fields[key] = [table[i] for i in column["index"]]
        else:
            fields[key] = column["plain"]
    return MetadataTable(fields, count)


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
