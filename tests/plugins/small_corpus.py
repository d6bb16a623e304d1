"""A four-document corpus that embeds in about a second, for tests that ingest for real."""

from __future__ import annotations

from pathlib import Path

SMALL_CORPUS: dict[str, str] = {
    "data-quality-basics.md": """---
id: data-quality-basics
title: Data quality basics
topics: [data-quality]
summary: Checking completeness, consistency and freshness before training.
---

Use this when your records are messy and you are unsure whether a model can learn from them.

## Completeness

Count missing values per field and per source system. A field that is empty in a third of the
records cannot carry a model.

## Duplicates

Customer records entered twice inflate counts and leak between training and test sets.
Deduplicate on a stable key before you split.
""",
    "hiring-ml-engineers.md": """---
id: hiring-ml-engineers
title: Hiring machine learning engineers
topics: [talent]
summary: Writing roles, interviewing and retaining engineers.
---

Use this when you need to hire your first machine learning engineers.

## Writing the role

Describe the problem the engineer will own, the data they will work with and who they will
report to. Avoid wish lists of every framework.

## Retention

Engineers stay for interesting problems, good tooling and a manager who removes obstacles.
Pay matters, but growth matters more.
""",
    "key-person-risk.md": """---
id: key-person-risk
title: Key-person risk in small AI teams
topics: [talent, monitoring]
summary: What to do when one person holds all the knowledge about a model.
---

Use this when only one person knows how the model is trained, deployed and fixed.

## Pairing and documentation

Pair a second engineer on every retraining run and write a runbook that someone else has
followed end to end.

## Access

Move credentials and cloud resources from personal accounts to shared, audited team accounts.
""",
    "labelling-guidelines.md": """---
id: labelling-guidelines
title: Labelling guidelines for training data
topics: [data-quality, testing-validation]
summary: Writing annotation guidelines and measuring agreement between annotators.
---

Use this when people label examples for a supervised model.

## Guidelines

Write down each label with examples and counter-examples, and update the guide when annotators
disagree.

## Agreement

Have two annotators label the same sample and measure their agreement; low agreement means the
guide, not the annotators, needs work.
""",
}


def write_small_corpus(root: Path) -> Path:
    """Write the corpus into ``root`` (created if needed) and return ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    for name, text in SMALL_CORPUS.items():
        (root / name).write_text(text, encoding="utf-8")
    return root
