"""Named corpus sources: which name each folder given to `advisor ingest` is indexed under.

The default knowledge folder is always the source `knowledge` (documents indexed before sources had
names belong to it); any other folder is named after itself (`~/docs/hr-policies` -> `hr-policies`),
a file after its folder, unless the caller names the source."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from advisor.store.records import CorpusSourceRecord

DEFAULT_SOURCE = "knowledge"
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class SourceNameError(ValueError):
    """A source name that is not a short slug."""


def check_source_name(name: str) -> str:
    if not _NAME.match(name):
        raise SourceNameError(
            f"source name {name!r}: use 1-64 lowercase letters, digits, '-' or '_', starting with a letter or digit"
        )
    return name


def source_name_for(path: Path, knowledge_dir: Path) -> str:
    """The name a folder (or a file's folder) is indexed under."""
    folder = path if path.is_dir() else path.parent
    if folder.resolve() == knowledge_dir.resolve():
        return DEFAULT_SOURCE
    slug = re.sub(r"[^a-z0-9_-]+", "-", folder.resolve().name.lower()).strip("-_")[:64]
    return slug or "source"


def name_sources(
    paths: Sequence[Path], knowledge_dir: Path, name: str | None = None
) -> dict[str, list[Path]]:
    """Source name -> the paths indexed under it: all under ``name`` when given, else each folder
    under its own name."""
    if name is not None:
        return {check_source_name(name): list(paths)}
    named: dict[str, list[Path]] = {}
    for path in paths:
        named.setdefault(source_name_for(path, knowledge_dir), []).append(path)
    return named


def encode_paths(paths: Sequence[Path]) -> str:
    """How a source's folders are stored (a JSON list of absolute paths)."""
    return json.dumps([str(p.resolve()) for p in paths])


def registered_sources(records: Sequence[CorpusSourceRecord], knowledge_dir: Path) -> dict[str, list[Path]]:
    """What a plain `advisor ingest` refreshes: every registered source, the default one always
    from the configured knowledge folder (it may have moved, e.g. into a container)."""
    named: dict[str, list[Path]] = {r.name: [Path(p) for p in json.loads(r.path)] for r in records}
    if not named or DEFAULT_SOURCE in named:
        named[DEFAULT_SOURCE] = [knowledge_dir]
    return named


def describe(sources: Mapping[str, Sequence[Path]]) -> str:
    return ", ".join(f"{name} ({', '.join(str(p) for p in paths)})" for name, paths in sources.items())
