"""The timing options every benchmark command shares: `--quick`, `--n`, `--concurrency`
and `--seconds`, and the Budget they make.

bench/run.py and bench/audit_cost.py time different variants with the same loop
(bench/measure.py); what these options mean is the same in both, so it is said once.
"""

from __future__ import annotations

import argparse
import dataclasses

from bench.measure import Budget


def timing_parser(
    doc: str,
    *,
    n: tuple[int, ...],
    n_help: str,
    concurrency: tuple[int, ...],
    full: Budget,
) -> argparse.ArgumentParser:
    """A command's parser, described by the first paragraph of its `doc`, with the timing
    options; `full` is the budget of a run that is not `--quick`."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--n", type=positive_ints, default=n, help=n_help)
    parser.add_argument(
        "--concurrency", type=positive_ints, default=concurrency, help="asyncio tasks"
    )
    parser.add_argument(
        "--seconds",
        type=float,
        help=f"timed seconds per variant and cell (default {full.seconds:g})",
    )
    return parser


def budget(args: argparse.Namespace, *, quick: Budget, full: Budget) -> Budget:
    """The budget the options chose: `--quick`'s or the full one, `--seconds` over either."""
    chosen = quick if args.quick else full
    return chosen if args.seconds is None else dataclasses.replace(chosen, seconds=args.seconds)


def positive_ints(text: str) -> tuple[int, ...]:
    """An argparse type: a comma-separated list of positive integers (`--n 1,100,1000`)."""
    values = tuple(int(part) for part in text.split(",") if part.strip())
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError("a comma-separated list of positive integers")
    return values
