"""The evaluation report's charts, as inline SVG (matplotlib, imported only when a report is drawn):
scores per topic, this run against the baseline, and the runs so far."""

from __future__ import annotations

import io
from typing import Any

from advisor.evals.gate import Baseline
from advisor.evals.runner import STRATEGIES

_CHART_METRICS = (
    "retrieval.hybrid.ndcg@10",
    "answer.must_include",
    "answer.rouge_l",
    "grounding.groundedness",
    "citations.recall",
    "citations.precision",
    "abstention.recall",
    "multiturn.must_include",
)


def _svg(figure: Any) -> str:
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(figure)
    text = buffer.getvalue()
    return text[text.find("<svg") :]


def chart_per_topic(per_topic: dict[str, dict[str, float]]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    topics = list(per_topic)
    fig, ax = plt.subplots(figsize=(7, 0.32 * len(topics) + 1.2))
    height = 0.27
    for offset, (strategy, colour) in enumerate(
        zip(STRATEGIES, ("#8fb8de", "#f2b880", "#2e7d32"), strict=True)
    ):
        ax.barh(
            [i + (offset - 1) * height for i in range(len(topics))],
            [per_topic[t].get(strategy, 0.0) for t in topics],
            height,
            label=strategy,
            color=colour,
        )
    ax.set_yticks(range(len(topics)), topics)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("nDCG@10")
    ax.set_title("Retrieval per topic")
    ax.legend(loc="lower right", fontsize=8)
    return _svg(fig)


def chart_vs_baseline(metrics: dict[str, float], baseline: Baseline | None) -> str:
    """This run's key metrics next to the baseline's."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [n for n in _CHART_METRICS if n in metrics]
    fig, ax = plt.subplots(figsize=(7, 0.4 * len(names) + 1.2))
    height = 0.38
    ax.barh(
        [i - height / 2 for i in range(len(names))],
        [metrics[n] for n in names],
        height,
        label="this run",
        color="#2e7d32",
    )
    if baseline is not None:
        ax.barh(
            [i + height / 2 for i in range(len(names))],
            [baseline.metrics.get(n, 0.0) for n in names],
            height,
            label="baseline",
            color="#b0bec5",
        )
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_title("This run against the baseline")
    ax.legend(loc="lower right", fontsize=8)
    return _svg(fig)


def chart_history(history: list[dict[str, Any]], baseline: Baseline | None) -> str:
    """Key metrics over the last runs written to the same folder; dotted lines are the baseline."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = [h["metrics"] for h in history[-20:]]
    names = [n for n in _CHART_METRICS if n in runs[-1]]
    fig, ax = plt.subplots(figsize=(7, 4))
    for name in names:
        line = ax.plot(
            range(1, len(runs) + 1), [r.get(name, float("nan")) for r in runs], marker="o", label=name
        )[0]
        if baseline is not None and name in baseline.metrics:
            ax.axhline(baseline.metrics[name], color=line.get_color(), linestyle=":", linewidth=1)
    ax.set_ylim(0, 1.02)
    ax.set_xticks(range(1, len(runs) + 1))
    ax.set_xlabel("run (most recent last); dotted = baseline")
    ax.set_title("Metric history")
    ax.legend(fontsize=7, loc="lower left")
    return _svg(fig)
