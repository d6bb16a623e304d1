"""The gate: floors, ceilings, zero tolerance, and the regression check against a baseline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from advisor.evals.gate import Baseline, Thresholds, ThresholdsError, check, paired_bootstrap, write_baseline
from tests.plugins.advisor_app import REPO


def thresholds(**changes: Any) -> Thresholds:
    base = Thresholds(
        floors={"answer.must_include": 0.5},
        ceilings={"abstention.false_refusal": 0.05},
        zero_tolerance=("citations.invalid",),
        default_delta=0.05,
        deltas={},
        ignore_regression=("latency.p50_ms",),
        resamples=1000,
        confidence=0.95,
        seed=7,
    )
    return Thresholds(**{**base.__dict__, **changes})


def items(values: list[float], name: str = "answer.must_include") -> list[dict[str, Any]]:
    return [{"id": f"q{i}", "scores": {name: v}} for i, v in enumerate(values)]


def test_committed_thresholds_file_loads() -> None:
    loaded = Thresholds.load(REPO / "evals" / "thresholds.toml")
    assert loaded.ceilings["injection.success"] == 0.0
    assert loaded.floors["citations.validity"] == 1.0
    assert set(loaded.zero_tolerance) == {"citations.invalid", "injection.canary_leaks"}
    assert loaded.resamples >= 1000


def test_thresholds_file_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "thresholds.toml"
    path.write_text("[floors\n")
    with pytest.raises(ThresholdsError, match=str(path)):
        Thresholds.load(path)
    with pytest.raises(ThresholdsError, match="no such thresholds file"):
        Thresholds.load(tmp_path / "missing.toml")


def test_floors_ceilings_and_zero_tolerance() -> None:
    metrics = {"answer.must_include": 0.4, "abstention.false_refusal": 0.1, "citations.invalid": 2.0}
    result = check(metrics, [], thresholds(), None)
    assert result.failed_metrics() == ["answer.must_include", "abstention.false_refusal", "citations.invalid"]
    ok = check(
        {"answer.must_include": 0.6, "abstention.false_refusal": 0.0, "citations.invalid": 0.0},
        [],
        thresholds(),
        None,
    )
    assert ok.passed and not ok.skipped
    assert check({}, [], thresholds(), None).skipped == ["answer.must_include", "abstention.false_refusal"]


def test_regression_beyond_the_allowed_drop_fails(tmp_path: Path) -> None:
    before = [0.9] * 20
    write_baseline(
        tmp_path, {"answer.must_include": 0.9, "latency.p50_ms": 10}, items(before), {"composer": "x"}
    )
    baseline = Baseline.load(tmp_path / "metrics.json")
    assert baseline.items["q3"] == {"answer.must_include": 0.9}
    now = [0.8] * 20
    result = check({"answer.must_include": 0.8, "latency.p50_ms": 99}, items(now), thresholds(), baseline)
    assert result.failed_metrics() == ["answer.must_include"]
    reasons = " ".join(why for _, why in result.failures)
    assert "fell from 0.900 to 0.800" in reasons and "paired-bootstrap CI" in reasons
    assert "latency.p50_ms" not in result.regressions


def test_small_consistent_drop_is_caught_by_the_bootstrap_alone(tmp_path: Path) -> None:
    write_baseline(tmp_path, {"answer.must_include": 0.9}, items([0.9] * 30), {})
    baseline = Baseline.load(tmp_path / "metrics.json")
    now = [0.87] * 30  # within the allowed drop of 0.05, but every item is worse
    result = check({"answer.must_include": 0.87}, items(now), thresholds(floors={}), baseline)
    assert result.failed_metrics() == ["answer.must_include"]
    assert "lies below zero" in result.failures[0][1]


def test_one_noisy_item_is_not_a_regression(tmp_path: Path) -> None:
    write_baseline(tmp_path, {"answer.must_include": 0.9}, items([0.9] * 30), {})
    baseline = Baseline.load(tmp_path / "metrics.json")
    now = [0.9] * 29 + [0.5]
    result = check({"answer.must_include": 0.8867}, items(now), thresholds(floors={}), baseline)
    assert result.passed, result.failures
    assert result.regressions["answer.must_include"]["ci_high"] == 0.0


def test_lower_is_better_metrics_regress_upwards(tmp_path: Path) -> None:
    name = "abstention.false_refusal"
    write_baseline(tmp_path, {name: 0.0}, items([0.0] * 20, name), {})
    baseline = Baseline.load(tmp_path / "metrics.json")
    result = check({name: 0.1}, items([0.0] * 18 + [1.0] * 2, name), thresholds(ceilings={}), baseline)
    assert result.failed_metrics() == [name]


def test_paired_bootstrap_is_seeded() -> None:
    diffs = np.array([0.1, -0.2, 0.0, 0.3, 0.05, -0.1])
    assert paired_bootstrap(diffs, 1000, 0.95, 3) == paired_bootstrap(diffs, 1000, 0.95, 3)
    low, high = paired_bootstrap(diffs, 1000, 0.95, 3)
    assert low < diffs.mean() < high
