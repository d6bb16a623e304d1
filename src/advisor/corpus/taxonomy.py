"""Topic ids a corpus may tag its documents with.

The thirteen built-in topics are the ones the bundled corpus, its evaluations and the
readiness assessment rely on; their ids are stable. A corpus may declare more topics in
an optional ``topics.yaml`` at its root, a mapping of id to a one-line description::

    procurement: buying AI products and services, vendor due diligence, contracts
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

TOPICS_FILE = "topics.yaml"
TOPIC_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")

BUILTIN_TOPICS: dict[str, str] = {
    "business-objectives": (
        "Defining the business problem, measurable outcomes, KPIs and the value case, "
        "and scoping a first use case small enough to succeed."
    ),
    "data-quality": (
        "Whether the data is complete, consistent, available, labelled, integrated across silos "
        "and free of harmful bias."
    ),
    "infrastructure": (
        "Compute, storage, cloud or on-premises platforms, tooling, environments and the MLOps foundations."
    ),
    "scalability": (
        "Coping with growing data and traffic: scaling out, up or automatically, modular design, "
        "and performance and cost at scale."
    ),
    "deployment": (
        "Getting models into production: serving, CI/CD for models, shadow, canary and blue-green "
        "releases, and legacy integration."
    ),
    "testing-validation": (
        "Automated tests of data, code and models, and evaluation against acceptance criteria, "
        "offline and online."
    ),
    "monitoring": (
        "Watching models in production: KPIs, data and model drift, feedback loops, audits, "
        "retraining and upkeep."
    ),
    "security-governance": (
        "Protecting data and systems: privacy, access control, governance, compliance, regulation "
        "and risk management."
    ),
    "change-management": (
        "Bringing people along: stakeholders, communication, user adoption and training, and "
        "cross-team collaboration."
    ),
    "talent": (
        "The people side of capability: hiring, retention, team roles and structure, upskilling "
        "and key-person risk."
    ),
    "strategy-roadmap": (
        "Planning AI as a programme: feasibility, risk assessment, roadmaps, budgets, resourcing "
        "and an experimentation culture."
    ),
    "explainability": (
        "Making model decisions understandable: interpretability, transparency to users and "
        "regulators, human oversight."
    ),
    "use-cases": (
        "Industry examples (healthcare, finance, retail, manufacturing, insurance, logistics) and "
        "the lessons they teach."
    ),
}


class CorpusError(Exception):
    """A corpus-level file (such as ``topics.yaml``) that cannot be used.

    ``str()`` is ``"{path}:{line}: {reason}"`` when the line is known, else ``"{path}: {reason}"``.
    """

    def __init__(self, path: Path, reason: str, line: int | None = None) -> None:
        self.path = path
        self.reason = reason
        self.line = line
        super().__init__(f"{path}:{line}: {reason}" if line is not None else f"{path}: {reason}")


def _key_line(text: str, key: str) -> int | None:
    """1-based line where a top-level ``key:`` is written, if it can be found."""
    pattern = re.compile(rf"^['\"]?{re.escape(key)}['\"]?\s*:")
    for number, line in enumerate(text.splitlines(), start=1):
        if pattern.match(line):
            return number
    return None


def load_topics(corpus_root: Path) -> dict[str, str]:
    """Built-in topics plus those declared in ``<corpus_root>/topics.yaml``, if that file exists.

    Raises ``CorpusError`` naming the file (and the line when known) if the file is malformed.
    """
    topics = dict(BUILTIN_TOPICS)
    path = corpus_root / TOPICS_FILE
    if not path.is_file():
        return topics
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CorpusError(path, "not valid UTF-8 text; save the file as UTF-8") from None
    except OSError as exc:
        raise CorpusError(path, f"cannot read the file ({exc.strerror or exc})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise CorpusError(
            path, f"invalid YAML ({problem}); write one 'topic-id: description' per line", line
        ) from None
    if data is None:
        return topics
    if not isinstance(data, dict):
        raise CorpusError(
            path, "must be a mapping of topic id to description, e.g. 'procurement: buying AI services'", 1
        )
    for key, description in data.items():
        topic_id = str(key)
        line = _key_line(text, topic_id)
        if not isinstance(key, str) or not TOPIC_ID_PATTERN.match(key):
            raise CorpusError(
                path,
                f"topic id {topic_id!r} is not valid; use lowercase letters, digits and hyphens "
                "(e.g. 'vendor-management')",
                line,
            )
        if not isinstance(description, str) or not description.strip():
            raise CorpusError(path, f"topic {topic_id!r} needs a one-line description as a text value", line)
        topics[key] = " ".join(description.split())
    return topics
