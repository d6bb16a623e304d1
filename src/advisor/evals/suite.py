"""One evaluation end to end: load and validate the data, produce answers (in-process or from a file),
score them, apply the gate, write the report. The CLI is a thin layer over :func:`evaluate`."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from advisor.evals.datasets import Suite, load_suite
from advisor.evals.gate import Baseline, Thresholds, check, write_baseline
from advisor.evals.report import Report, write_outputs
from advisor.evals.runner import Degrade, InProcessRunner, load_answers

if TYPE_CHECKING:
    from advisor.container import Container
    from advisor.evals.support import SupportTest
    from advisor.settings import Settings

Composer = Literal["extractive", "llm"]
ContainerFactory = Callable[["Settings"], "Container"]
# (phase, total steps, steps done) for a progress bar
Progress = Callable[[str, int, int], None]
CALIBRATION_FILE = "support_calibration.json"


class EvalError(RuntimeError):
    """Anything that stops an evaluation before it can score: one line, naming the file at fault."""


@dataclass
class EvalOptions:
    evals_dir: Path = Path("evals")
    datasets: Path | None = None  # default <evals_dir>/datasets
    poisoned: Path | None = None  # default <evals_dir>/fixtures/poisoned
    thresholds: Path | None = None  # default <evals_dir>/thresholds.toml
    baseline: Path | None = None  # default <evals_dir>/baseline/metrics.json (skipped when absent)
    out: Path = Path("data/eval")
    composer: Composer | None = None  # None = the running configuration
    answers: Path | None = None
    degrade: Degrade | None = None
    update_baseline: bool = False
    extra_info: dict[str, Any] = field(default_factory=dict)

    def path(self, given: Path | None, default: str) -> Path:
        return given if given is not None else self.evals_dir / default


def configure(settings: Settings, composer: Composer | None) -> Settings:
    """The running configuration, with the composer forced when asked."""
    if composer == "extractive":
        return settings.model_copy(update={"llm": settings.llm.model_copy(update={"provider": "extractive"})})
    if composer == "llm" and settings.llm.provider == "extractive":
        raise EvalError(
            "--composer llm needs an LLM provider: set ADVISOR_LLM__PROVIDER and ADVISOR_LLM__MODEL"
        )
    return settings


def support_test(container: Container, evals_dir: Path) -> SupportTest:
    from advisor.evals.support import SupportTest, SupportThresholds

    try:
        thresholds = SupportThresholds.load(evals_dir / CALIBRATION_FILE)
    except ValueError as exc:
        raise EvalError(str(exc)) from None
    return SupportTest(container.embedder, thresholds)


def recalibrate(container: Container, options: EvalOptions) -> tuple[Path, Any]:
    """Re-fit the support test's thresholds on support_pairs.jsonl and store them."""
    from advisor.evals.datasets import SUPPORT_PAIRS, DatasetError, SupportPair, load_rows
    from advisor.evals.support import SupportTest, calibrate

    path = options.path(options.datasets, "datasets") / SUPPORT_PAIRS
    try:
        pairs = [row for _, row in load_rows(path, SupportPair)]
        thresholds = calibrate(SupportTest(container.embedder), pairs)
    except (DatasetError, ValueError) as exc:
        raise EvalError(str(exc)) from None
    target = options.evals_dir / CALIBRATION_FILE
    thresholds.save(target)
    return target, thresholds


def _poisoned_container(base: Container, folder: Path, poisoned: Path, build: ContainerFactory) -> Container:
    """A private index of the corpus plus the poisoned fixtures. An embedded Chroma index is copied
    first, so only the fixtures are embedded."""
    from advisor.components.vector_store import ChromaVectorStore
    from advisor.settings import ChromaSettings, DatabaseSettings

    settings = base.settings
    local = settings.chroma.mode == "persistent" and not settings.chroma.path and not settings.database.url
    if local and isinstance(base.vectors, ChromaVectorStore) and settings.data_dir.is_dir():
        shutil.copytree(settings.data_dir, folder, ignore=shutil.ignore_patterns("ingest.lock", "eval"))
    private = settings.model_copy(
        update={"data_dir": folder, "chroma": ChromaSettings(), "database": DatabaseSettings()}
    )
    container = build(private)
    report = container.indexer.ingest([settings.knowledge_dir, poisoned])
    if report.skipped:
        raise EvalError(f"poisoned corpus: {'; '.join(report.skipped)}")
    return container


def _run_in_process(
    container: Container, suite: Suite, options: EvalOptions, progress: Progress, build: ContainerFactory
) -> tuple[dict[str, Any], dict[str, dict[str, list[str]]]]:
    from advisor.retrieval.retriever import IndexNotReadyError

    try:
        container.retriever.chunk_count()
    except IndexNotReadyError as exc:
        raise EvalError(str(exc)) from None
    total = 2 * len(suite.answerable) + len(suite.unanswerable) + len(suite.multiturn) + len(suite.injection)
    done = 0

    def step(_: str) -> None:
        nonlocal done
        done += 1
        progress("evaluating", total, done)

    runner = InProcessRunner(container, options.degrade)
    try:
        rankings = runner.rankings(suite, step)
        answers: dict[str, Any] = runner.answers(suite, step)
    finally:
        runner.close()
    if suite.injection:
        poisoned = options.path(options.poisoned, "fixtures/poisoned")
        progress("indexing the poisoned corpus", total, done)
        with tempfile.TemporaryDirectory(prefix="advisor-eval-poisoned-") as tmp:
            private = _poisoned_container(container, Path(tmp) / "data", poisoned, build)
            inj_runner = InProcessRunner(private, options.degrade)
            try:
                answers |= inj_runner.answers(suite, step, injection=True)
            finally:
                inj_runner.close()
    return answers, rankings


def _history(out: Path, metrics: dict[str, float], run_at: str) -> list[dict[str, Any]]:
    path = out / "history.jsonl"
    rows = []
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # a damaged history line only costs one chart point
    rows.append({"run_at": run_at, "metrics": metrics})
    out.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(json.dumps(r, sort_keys=True) for r in rows[-200:]) + "\n", encoding="utf-8")
    return rows


def evaluate(
    settings: Settings,
    options: EvalOptions,
    progress: Progress | None = None,
    *,
    build: ContainerFactory | None = None,
) -> Report:
    """``build`` makes a container from settings (default ``Container``; tests hand in one with the
    fast tier's components)."""
    from advisor.container import Container
    from advisor.evals.assessment import FILE as ASSESSMENT_PROFILES
    from advisor.evals.assessment import score_assessments
    from advisor.evals.datasets import DatasetError
    from advisor.evals.detectors import PromptLeakDetector
    from advisor.evals.gate import ThresholdsError
    from advisor.evals.junk import corpus_signs
    from advisor.evals.scoring import score_suite

    progress = progress or (lambda phase, total, done: None)
    settings = configure(settings, options.composer)
    try:
        suite = load_suite(
            options.path(options.datasets, "datasets"),
            settings.knowledge_dir,
            options.path(options.poisoned, "fixtures/poisoned"),
        )
        thresholds = Thresholds.load(options.path(options.thresholds, "thresholds.toml"))
        baseline_path = options.path(options.baseline, "baseline/metrics.json")
        baseline = (
            Baseline.load(baseline_path) if options.baseline is not None or baseline_path.exists() else None
        )
        build = build or Container
        container = build(settings)
        test = support_test(container, options.evals_dir)
        if options.answers is not None:
            answers, rankings = load_answers(options.answers, suite), None
        else:
            answers, rankings = _run_in_process(container, suite, options, progress, build)
    except (DatasetError, ThresholdsError) as exc:
        raise EvalError(str(exc)) from None
    progress("scoring", 1, 0)
    prompts = sorted(settings.resolved_prompts_dir.glob("*.j2"))
    leaks = PromptLeakDetector.from_files(prompts, sorted(settings.knowledge_dir.rglob("*.md")))
    scores = score_suite(suite, answers, rankings, test, leaks, corpus_signs(settings.knowledge_dir))
    profiles = options.path(options.datasets, "datasets") / ASSESSMENT_PROFILES
    if options.answers is None and profiles.exists():
        progress("scoring readiness assessments", 1, 0)
        try:
            assessed = score_assessments(container, profiles)
        except DatasetError as exc:
            raise EvalError(str(exc)) from None
        scores.metrics.update(assessed.metrics)
        scores.items += assessed.items
        scores.assessment_per_topic = assessed.per_topic
        scores.counts["assessment"] = len(assessed.items)
    gate = check(scores.metrics, scores.items, thresholds, baseline)
    run_at = datetime.now(UTC).isoformat(timespec="seconds")
    composer = (
        "answers file"
        if options.answers
        else ("llm" if settings.llm.provider != "extractive" else "extractive")
    )
    info = {
        "run_at": run_at,
        "composer": composer,
        "answers_file": str(options.answers or ""),
        "degrade": options.degrade or "",
        "retrieval": settings.retrieval.model_dump(),
        "support_thresholds": {"cosine": test.thresholds.cosine, "overlap": test.thresholds.overlap}
        if test.thresholds
        else {},
        **options.extra_info,
    }
    history = _history(options.out, scores.metrics, run_at)
    report = Report(scores, gate, thresholds, baseline, info, history)
    write_outputs(options.out, report)
    if options.update_baseline:
        write_baseline(baseline_path.parent, scores.metrics, scores.items, info)
    return report
