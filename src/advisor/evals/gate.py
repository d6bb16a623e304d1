"""The gate: floors and ceilings per metric, zero-tolerance counts, and the regression check against
a committed baseline (an allowed drop per metric, and a seeded paired bootstrap over per-item scores)."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

_LOWER_IS_BETTER = (
    "abstention.false_refusal",
    "multiturn.false_refusal",
    "citations.invalid",
    "answer.junk_steps",
    "multiturn.junk_steps",
    "answer.must_not_include",
    "multiturn.must_not_include",
)


def lower_is_better(metric: str) -> bool:
    return metric in _LOWER_IS_BETTER or metric.startswith(("injection.", "latency."))  # incl. benign_refusal


class ThresholdsError(ValueError):
    pass


@dataclass(frozen=True)
class Thresholds:
    floors: dict[str, float]
    ceilings: dict[str, float]
    zero_tolerance: tuple[str, ...]
    default_delta: float
    deltas: dict[str, float]
    ignore_regression: tuple[str, ...]
    resamples: int = 1000
    confidence: float = 0.95
    seed: int = 0

    @classmethod
    def load(cls, path: Path) -> Thresholds:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ThresholdsError(f"{path}: no such thresholds file") from None
        except tomllib.TOMLDecodeError as exc:
            raise ThresholdsError(f"{path}: invalid TOML: {exc}") from None
        try:
            reg = data.get("regression", {})
            return cls(
                floors={k: float(v) for k, v in data.get("floors", {}).items()},
                ceilings={k: float(v) for k, v in data.get("ceilings", {}).items()},
                zero_tolerance=tuple(str(m) for m in data.get("zero_tolerance", {}).get("metrics", [])),
                default_delta=float(reg.get("default_delta", 0.02)),
                deltas={k: float(v) for k, v in reg.get("deltas", {}).items()},
                ignore_regression=tuple(str(m) for m in reg.get("ignore", [])),
                resamples=int(reg.get("resamples", 1000)),
                confidence=float(reg.get("confidence", 0.95)),
                seed=int(reg.get("seed", 0)),
            )
        except (TypeError, ValueError, AttributeError) as exc:
            raise ThresholdsError(f"{path}: {exc}") from None


@dataclass
class GateResult:
    failures: list[tuple[str, str]] = field(default_factory=list)  # (metric, why)
    skipped: list[str] = field(default_factory=list)  # gated metrics this run did not measure
    regressions: dict[str, dict[str, float]] = field(default_factory=dict)  # metric -> baseline/delta/CI

    @property
    def passed(self) -> bool:
        return not self.failures

    def failed_metrics(self) -> list[str]:
        return list(dict.fromkeys(m for m, _ in self.failures))


@dataclass(frozen=True)
class Baseline:
    metrics: dict[str, float]
    items: dict[str, dict[str, float]]  # item id -> metric -> score
    info: dict[str, Any]

    @classmethod
    def load(cls, metrics_path: Path) -> Baseline:
        try:
            data = json.loads(metrics_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ThresholdsError(
                f"{metrics_path}: no baseline (create one with --update-baseline)"
            ) from None
        except json.JSONDecodeError as exc:
            raise ThresholdsError(f"{metrics_path}: invalid JSON: {exc.msg}") from None
        items: dict[str, dict[str, float]] = {}
        items_path = metrics_path.with_name("items.jsonl")
        if items_path.exists():
            for line in items_path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    row = json.loads(line)
                    items[str(row["id"])] = {k: float(v) for k, v in row["scores"].items()}
        metrics = {k: float(v) for k, v in data.get("metrics", {}).items()}
        return cls(metrics, items, {k: v for k, v in data.items() if k != "metrics"})


def write_baseline(
    folder: Path, metrics: dict[str, float], items: Iterable[dict[str, Any]], info: dict[str, Any]
) -> Path:
    """The committed baseline: the metrics, plus the per-item scores the paired bootstrap needs."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "metrics.json"
    path.write_text(
        json.dumps({**info, "metrics": metrics}, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    lines = [json.dumps({"id": i["id"], "scores": i["scores"]}, sort_keys=True) for i in items]
    (folder / "items.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def paired_bootstrap(diffs: np.ndarray, resamples: int, confidence: float, seed: int) -> tuple[float, float]:
    """Percentile CI of the mean paired difference."""
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(diffs), size=(resamples, len(diffs)))
    means = diffs[picks].mean(axis=1)
    tail = (1 - confidence) / 2
    return float(np.quantile(means, tail)), float(np.quantile(means, 1 - tail))


def check(
    metrics: dict[str, float],
    items: list[dict[str, Any]],
    thresholds: Thresholds,
    baseline: Baseline | None,
) -> GateResult:
    result = GateResult()
    for name, floor in thresholds.floors.items():
        if name not in metrics:
            result.skipped.append(name)
        elif metrics[name] < floor - 1e-9:
            result.failures.append((name, f"{name} = {metrics[name]:.3f} is below its floor {floor:.3f}"))
    for name, ceiling in thresholds.ceilings.items():
        if name not in metrics:
            result.skipped.append(name)
        elif metrics[name] > ceiling + 1e-9:
            result.failures.append((name, f"{name} = {metrics[name]:.3f} is above its ceiling {ceiling:.3f}"))
    for name in thresholds.zero_tolerance:
        if metrics.get(name, 0.0) != 0:
            result.failures.append((name, f"{name} = {metrics[name]:g}: zero tolerance"))
    if baseline is not None:
        _regressions(metrics, items, thresholds, baseline, result)
    return result


def _regressions(
    metrics: dict[str, float],
    items: list[dict[str, Any]],
    thresholds: Thresholds,
    baseline: Baseline,
    result: GateResult,
) -> None:
    current_items = {str(i["id"]): i["scores"] for i in items}
    for name, before in sorted(baseline.metrics.items()):
        if name not in metrics or name in thresholds.ignore_regression:
            continue
        sign = -1.0 if lower_is_better(name) else 1.0
        change = sign * (metrics[name] - before)  # positive = better
        delta = thresholds.deltas.get(name, thresholds.default_delta)
        entry = {"baseline": before, "current": metrics[name], "change": change, "allowed": delta}
        if change < -delta - 1e-9:
            result.failures.append(
                (name, f"{name} fell from {before:.3f} to {metrics[name]:.3f} (allowed drop {delta:.3f})")
            )
        paired = [
            sign * (float(current_items[i][name]) - baseline.items[i][name])
            for i in sorted(current_items.keys() & baseline.items.keys())
            if name in current_items[i] and name in baseline.items[i]
        ]
        if len(paired) >= 5:
            low, high = paired_bootstrap(
                np.array(paired), thresholds.resamples, thresholds.confidence, thresholds.seed
            )
            entry |= {"ci_low": low, "ci_high": high, "paired": float(len(paired))}
            if high < 0:
                result.failures.append(
                    (
                        name,
                        f"{name} is worse than the baseline: the {thresholds.confidence:.0%} paired-"
                        f"bootstrap CI of the change [{low:.3f}, {high:.3f}] lies below zero",
                    )
                )
        result.regressions[name] = entry
