"""Find runs of consecutive words that a corpus shares with source material.

The bundled corpus must be written in our own words: no run of ``min_words`` or more
consecutive words may appear in any source file. Words are compared case-insensitively
with punctuation removed, so re-punctuating a copied sentence does not hide it.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def words_of(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("\u2019", "'"))


@dataclass(frozen=True)
class SharedRun:
    path: Path
    source: Path
    words: str


def _shingles(words: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def find_shared_runs(documents: list[Path], sources: list[Path], min_words: int = 10) -> list[SharedRun]:
    """Return one entry per (document, source) pair for each maximal shared run."""
    source_shingles = {
        src: _shingles(words_of(src.read_text(encoding="utf-8")), min_words) for src in sources
    }
    found: list[SharedRun] = []
    for doc in documents:
        doc_words = words_of(doc.read_text(encoding="utf-8"))
        for src, shingles in source_shingles.items():
            i = 0
            while i <= len(doc_words) - min_words:
                if tuple(doc_words[i : i + min_words]) in shingles:
                    end = i + min_words
                    while (
                        end < len(doc_words) and tuple(doc_words[end - min_words + 1 : end + 1]) in shingles
                    ):
                        end += 1
                    found.append(SharedRun(doc, src, " ".join(doc_words[i:end])))
                    i = end
                else:
                    i += 1
    return found


def _files(path: Path, pattern: str) -> list[Path]:
    return sorted(path.rglob(pattern)) if path.is_dir() else [path]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m advisor.corpus.overlap CORPUS_DIR SOURCE_DIR", file=sys.stderr)
        return 2
    docs = _files(Path(args[0]), "*.md")
    sources = _files(Path(args[1]), "*")
    runs = find_shared_runs(docs, [s for s in sources if s.is_file()])
    for run in runs:
        print(f'{run.path}: shares {len(run.words.split())} words with {run.source.name}: "{run.words}"')
    print(f"{len(docs)} documents checked against {len(sources)} source files: {len(runs)} shared runs")
    return 1 if runs else 0


if __name__ == "__main__":
    raise SystemExit(main())
