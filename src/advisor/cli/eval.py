"""``advisor eval``: run the offline evaluation suite, print the metric table, write the report, and
exit non-zero naming the metrics that failed their floor or the regression check."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from advisor.evals.report import Report


def _print(report: Report, out: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    from advisor.evals.report import answer_rows, retrieval_rows
    from advisor.evals.runner import STRATEGIES

    console = Console()
    metrics = report.scores.metrics
    if any(name.startswith("retrieval.") for name in metrics):
        table = Table(title="Retrieval (document level)")
        for column in ("metric", *STRATEGIES):
            table.add_column(column, justify="left" if column == "metric" else "right")
        for row in retrieval_rows(metrics):
            table.add_row(*row)
        console.print(table)
    table = Table(title="Answers")
    for column in ("metric", "value", "bound", "baseline", "status"):
        table.add_column(column, justify="right" if column in ("value", "baseline") else "left")
    for name, value, bound, base, status in answer_rows(report):
        style = "red" if status == "FAIL" else None
        table.add_row(name, value, bound, base, status, style=style)
    console.print(table)
    console.print(f"report: {out / 'report.html'} (also report.md, metrics.json, items.jsonl)")


def eval_command(
    composer: Annotated[
        str | None, typer.Option(help="extractive or llm; default: the running configuration.")
    ] = None,
    answers: Annotated[
        Path | None, typer.Option(help="Score this JSONL of answers (any system) instead of running Advisor.")
    ] = None,
    baseline: Annotated[
        Path | None, typer.Option(help="Baseline metrics.json; default evals/baseline/metrics.json.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Where to write the report; default <data_dir>/eval.")
    ] = None,
    update_baseline: Annotated[
        bool, typer.Option("--update-baseline", help="Store this run as the new baseline.")
    ] = False,
    evals_dir: Annotated[
        Path | None,
        typer.Option(help="The suite: datasets, thresholds, baseline; default the source checkout's evals/."),
    ] = None,
    datasets: Annotated[
        Path | None, typer.Option(help="Dataset folder; default <evals-dir>/datasets.")
    ] = None,
    calibrate: Annotated[
        bool, typer.Option("--calibrate", help="Re-fit the support test on support_pairs.jsonl and exit.")
    ] = False,
    degrade: Annotated[
        str | None, typer.Option(help="Make retrieval worse on purpose (k1 or shuffle) to check the gate.")
    ] = None,
) -> None:
    """Run the offline evaluation suite (retrieval, answers, citations, abstention, injection)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from advisor.cli import common
    from advisor.cli.common import fail, load_settings
    from advisor.evals.suite import EvalError, EvalOptions, evaluate, recalibrate
    from advisor.settings_paths import source_checkout

    if composer not in (None, "extractive", "llm"):
        fail(f"--composer must be extractive or llm, not {composer!r}")
    if degrade not in (None, "k1", "shuffle"):
        fail(f"--degrade must be k1 or shuffle, not {degrade!r}")
    settings = load_settings()
    common.say_storage(settings)
    out = out or settings.data_dir / "eval"
    if evals_dir is None:
        checkout = source_checkout()
        evals_dir = checkout / "evals" if checkout is not None else Path("evals")
    options = EvalOptions(
        evals_dir=evals_dir,
        datasets=datasets,
        baseline=baseline,
        out=out,
        composer=composer,  # type: ignore[arg-type]  # checked above
        answers=answers,
        degrade=degrade,  # type: ignore[arg-type]
        update_baseline=update_baseline,
    )
    build = common.container_factory()
    if calibrate:
        from advisor.evals.suite import configure

        try:
            path, fitted = recalibrate(build(configure(settings, "extractive")), options)
        except EvalError as exc:
            fail(str(exc))
        typer.echo(
            f"support test: cosine >= {fitted.cosine}, token overlap >= {fitted.overlap}; "
            f"accuracy {fitted.accuracy:.3f} on {fitted.pairs} pairs; written to {path}"
        )
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=True,
        disable=not sys.stderr.isatty(),
    ) as bar:
        task = bar.add_task("loading", total=None)

        def progress(phase: str, total: int, done: int) -> None:
            bar.update(task, description=phase, total=total, completed=done)

        try:
            report = evaluate(settings, options, progress, build=build)
        except EvalError as exc:
            fail(str(exc))
    _print(report, out)
    if out == settings.data_dir / "eval":
        from advisor.evals.report import archive_run

        archive_run(out, report)  # the admin console lists the runs kept here
    if update_baseline:
        typer.echo(f"baseline updated in {options.path(baseline, 'baseline/metrics.json').parent}")
    if not report.gate.passed:
        for _, why in report.gate.failures:
            typer.echo(f"FAIL {why}", err=True)
        fail(f"evaluation failed: {', '.join(report.gate.failed_metrics())}", code=1)
