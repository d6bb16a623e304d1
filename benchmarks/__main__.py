"""`python -m benchmarks` (what `make bench` runs): measure, print the table, write JSON and a plot."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from benchmarks.corpus import SIZES

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--sizes", default="1k,10k,100k", help=f"comma-separated, of {', '.join(SIZES)}")
    parser.add_argument(
        "--quick", action="store_true", help="1k only, 40 queries, 64 requests per load level"
    )
    parser.add_argument("--queries", type=int, default=100, help="distinct questions per size")
    parser.add_argument("--load-requests", type=int, default=200, help="requests per load level")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--data-dir", type=Path, default=HERE / ".data", help="corpora, indexes, caches, logs"
    )
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--no-plot", action="store_true")
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="re-evaluate OUT/latest.json (targets, tables, plot); measure nothing",
    )
    args = parser.parse_args(argv)
    if args.report_only:
        from benchmarks.report import evaluate, table, write

        saved = json.loads((args.out / "latest.json").read_text())
        saved.pop("targets", None)
        checks = evaluate(saved)
        write(saved, checks, args.out, plot=not args.no_plot)
        print(table(saved, checks))
        return 0
    sizes = ["1k"] if args.quick else [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown or not sizes:
        parser.error(f"unknown size {', '.join(unknown) or '(none)'}; choose from {', '.join(SIZES)}")
    if args.quick:
        args.queries, args.load_requests = min(args.queries, 40), min(args.load_requests, 64)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    for name in [n for n in os.environ if n.startswith("ADVISOR_")]:
        del os.environ[name]  # the benchmark sets up its own data directories and settings

    from benchmarks.report import evaluate, table, write
    from benchmarks.run import Plan, run

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    def save_partial(partial: dict[str, object]) -> None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "partial.json").write_text(json.dumps(partial, indent=2) + "\n")

    plan = Plan(
        sizes=sizes,
        data_dir=args.data_dir,
        seed=args.seed,
        queries=args.queries,
        load_requests=args.load_requests,
        log=log,
        on_size=save_partial,
    )
    result = run(plan)
    checks = evaluate(result)
    path = write(result, checks, args.out, plot=not args.no_plot)
    # partial.json only keeps the sizes already measured should a later one fail; latest.json has it all.
    (args.out / "partial.json").unlink(missing_ok=True)
    print(table(result, checks))
    print(f"\nwrote {path}" + ("" if args.no_plot else f" and {path.parent / 'latency.png'}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
