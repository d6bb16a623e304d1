"""A deterministic, seeded synthetic corpus that scales the bundled knowledge/ to a chunk count.

Every synthetic document is built from real material: the front matter, headings, paragraphs and
list items of the bundled documents, recombined across documents that share a topic (a base
document's sections, thinned and reordered, with blocks borrowed from same-topic documents and
the same headings elsewhere). Titles are recombined from real titles and every document gets a
new id. The text therefore reads like the real corpus (same vocabulary, structure and chunk sizes)
but no two documents are identical, so every chunk has its own id.
"""

from __future__ import annotations

import json
import random
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from advisor.corpus.loaders import load_document
from advisor.corpus.markdown import slugify
from advisor.corpus.taxonomy import load_topics
from advisor.ingest.indexer import _indexable_chunks

REPO = Path(__file__).resolve().parents[1]
KNOWLEDGE = REPO / "knowledge"
SIZES = {"tiny": 100, "1k": 1_000, "10k": 10_000, "100k": 100_000}
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+")
_SKIP_SECTIONS = {"related guidance", "related documents", "see also", "further reading"}
_GENERATOR_VERSION = 1  # bump when the generator changes, so cached corpora are rebuilt


@dataclass
class SourceSection:
    heading: str
    blocks: list[str]  # paragraphs and list items, exactly as written


@dataclass
class SourceDoc:
    doc_id: str
    title: str
    topics: list[str]
    summary: str
    intro: list[str]
    sections: list[SourceSection] = field(default_factory=list)


def _blocks(text: str) -> list[str]:
    """Paragraphs and single list items; a list item keeps its marker so it stays a list item."""
    blocks: list[str] = []
    current: list[str] = []
    for line in text.split("\n"):
        if not line.strip() or _LIST_ITEM.match(line):
            if current:
                blocks.append(" ".join(current))
                current = []
            if line.strip():
                current = [line.rstrip()]
            continue
        current.append(line.strip())
    if current:
        blocks.append(" ".join(current))
    return [b for b in blocks if not b.startswith(("```", "|"))]


def parse_source(path: Path) -> SourceDoc:
    text = path.read_text(encoding="utf-8")
    _, front, body = text.split("---", 2)
    meta = yaml.safe_load(front)
    parts = re.split(r"^## (.+)$", body, flags=re.M)
    doc = SourceDoc(
        doc_id=str(meta["id"]),
        title=str(meta["title"]),
        topics=list(meta.get("topics") or []),
        summary=str(meta.get("summary", "")),
        intro=_blocks(parts[0]),
    )
    for heading, section in zip(parts[1::2], parts[2::2], strict=True):
        if heading.strip().lower() in _SKIP_SECTIONS:
            continue
        blocks = _blocks(re.sub(r"^#{3,6} .*$", "", section, flags=re.M))
        if blocks:
            doc.sections.append(SourceSection(heading.strip(), blocks))
    return doc


def load_sources(root: Path = KNOWLEDGE) -> list[SourceDoc]:
    return [parse_source(p) for p in sorted(root.glob("*.md")) if p.name.lower() != "readme.md"]


def source_blocks(root: Path = KNOWLEDGE) -> list[str]:
    """Every distinct block of the real corpus: the units synthetic text is made of."""
    seen: dict[str, None] = {}
    for doc in load_sources(root):
        for block in doc.intro + [b for s in doc.sections for b in s.blocks]:
            seen.setdefault(block, None)
    return list(seen)


class CorpusGenerator:
    def __init__(self, seed: int, root: Path = KNOWLEDGE) -> None:
        self._rng = random.Random(seed)
        self._docs = load_sources(root)
        self._by_topic: dict[str, list[SourceDoc]] = {}
        self._by_heading: dict[str, list[SourceSection]] = {}
        for doc in self._docs:
            for topic in doc.topics:
                self._by_topic.setdefault(topic, []).append(doc)
            for section in doc.sections:
                self._by_heading.setdefault(section.heading.lower(), []).append(section)

    def _title(self, base: SourceDoc, other: SourceDoc) -> str:
        head = base.title.split(" - ")[0]
        tail = other.title.split(" - ", 1)[1] if " - " in other.title else other.title.lower()
        return f"{head} - {tail}" if tail.lower() != head.lower() else head

    def _thin(self, blocks: list[str], borrowed: list[str]) -> list[str]:
        rng = self._rng
        keep = [b for b in blocks if rng.random() < 0.8] or blocks[:1]
        extra = rng.sample(borrowed, min(len(borrowed), rng.randint(0, 2)))
        mixed = keep + [b for b in extra if b not in keep]
        # Reorder list items among themselves; paragraphs keep their place, so prose still reads.
        items = [b for b in mixed if _LIST_ITEM.match(b)]
        rng.shuffle(items)
        it = iter(items)
        return [next(it) if _LIST_ITEM.match(b) else b for b in mixed]

    def document(self, number: int) -> tuple[str, str]:
        """(doc_id, Markdown text) of synthetic document ``number``."""
        rng = self._rng
        base = rng.choice(self._docs)
        peers = [d for t in base.topics for d in self._by_topic.get(t, []) if d is not base] or self._docs
        other = rng.choice(peers)
        title = self._title(base, other)
        doc_id = f"{slugify(title)[:60].rstrip('-')}-{number:06d}"
        sections = list(base.sections)
        if other.sections and rng.random() < 0.6:
            sections.insert(rng.randrange(len(sections) + 1), rng.choice(other.sections))
        lines = [
            "---",
            f"id: {doc_id}",
            f"title: {json.dumps(title)}",
            f"topics: [{', '.join(base.topics)}]",
            f"summary: {json.dumps(base.summary)}",
            "---",
            "",
        ]
        for block in self._thin(base.intro, other.intro[:2]):
            lines += [block, ""]
        for section in sections:
            similar = [s for s in self._by_heading[section.heading.lower()] if s is not section]
            borrowed = [b for s in similar for b in s.blocks] or [b for s in other.sections for b in s.blocks]
            lines += [f"## {section.heading}", ""]
            for block in self._thin(section.blocks, borrowed):
                lines += [block, ""]
        return doc_id, "\n".join(lines)


@dataclass(frozen=True)
class SyntheticCorpus:
    path: Path
    documents: int
    chunks: int
    seed: int


def generate_corpus(target_chunks: int, seed: int, out_dir: Path) -> SyntheticCorpus:
    """Write documents to ``out_dir`` until they hold at least ``target_chunks`` indexable chunks.

    Cached: a directory already generated with the same target, seed and generator is reused.
    """
    manifest = out_dir / "_manifest.json"
    key = {"target": target_chunks, "seed": seed, "version": _GENERATOR_VERSION}
    if manifest.is_file():
        data = json.loads(manifest.read_text())
        if data.get("key") == key:
            return SyntheticCorpus(out_dir, data["documents"], data["chunks"], seed)
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    generator = CorpusGenerator(seed)
    topics = load_topics(KNOWLEDGE)
    chunks = documents = 0
    while chunks < target_chunks:
        doc_id, text = generator.document(documents)
        path = out_dir / f"{doc_id}.md"
        path.write_text(text, encoding="utf-8")
        chunks += len(_indexable_chunks(load_document(path, out_dir, topics)))
        documents += 1
    manifest.write_text(json.dumps({"key": key, "documents": documents, "chunks": chunks}))
    return SyntheticCorpus(out_dir, documents, chunks, seed)


def query_pool(seed: int, count: int, root: Path = KNOWLEDGE) -> list[str]:
    """Distinct, realistic questions: a heading or a bold action of the corpus, phrased as a user would."""
    rng = random.Random(seed * 7919 + 1)
    subjects: list[str] = []
    for doc in load_sources(root):
        subjects.append(doc.title.split(" - ")[0].lower())
        for section in doc.sections:
            subjects.append(section.heading.lower())
            for block in section.blocks:
                bold = re.match(r"^\s*[-*+]\s+\*\*(.+?)\*\*", block)
                if bold:
                    subjects.append(bold.group(1).rstrip(".:").lower())
    frames = [
        "How do we {s}?",
        "What should we know about {s}?",
        "We are stuck on {s}. What next?",
        "Our team asks about {s} for a churn model. Where to start?",
        "What are the risks around {s}?",
        "Give me first steps for {s}",
        "{s}: what does good look like?",
        "Is {s} worth it for a small team?",
    ]
    pool = sorted({frame.format(s=s) for s in subjects for frame in frames})
    rng.shuffle(pool)
    if count > len(pool):
        raise ValueError(f"asked for {count} distinct queries; the pool has {len(pool)}")
    return pool[:count]
