"""`python -m bench` / `listserv-bench`: where listserv stands against the physical limit.

Each scenario runs the real server (`listserv serve` in a child process,
SQLite in a temporary folder, an aiosmtpd sink in another child process as
its relay), then the matching baseline (the same work on the bare path) in
the same process tree right after, and prints one table:

    scenario   listserv   baseline   ratio   target   met   peak RSS

    intake    posts/s accepted (250 after the durable commit), DATA→250 latency
              vs the same clients against a bare aiosmtpd sink
    fan-out   seconds from 250 until the sink holds every recipient
              vs aiosmtplib sending the same batches over the same connections
    scrub     archive forms per second over a mixed corpus
              vs email parse + serialise of the same corpus
    archive   search p50/p99 over N archived posts, thread page render
              vs a bare FTS5 query on the same data
    memory    peak RSS accepting a big post and fanning it out
              vs the idle server's RSS

`--quick` runs reduced sizes in under a minute (CI runs it); results also go
to a JSON file (`--json`, default bench-results.json) with the git commit and
the CPU count, for comparison between commits.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from bench import archive_search, fanout, intake, memory, scrub
from bench.report import ScenarioResult, table, write_json
from bench.sizes import FULL, QUICK, Sizes

Scenario = Callable[[Sizes, Path], Awaitable[ScenarioResult]]

SCENARIOS: dict[str, Scenario] = {
    "intake": intake.run,
    "fanout": fanout.run,
    "scrub": scrub.run,
    "archive": archive_search.run,
    "memory": memory.run,
}


class Prepared(Protocol):
    def close(self) -> None: ...


# Scenarios with a server: started and warmed up by setup(), measured by measure().
SERVED: dict[
    str,
    tuple[
        Callable[[Sizes, Path], Awaitable[Prepared]],
        Callable[[Sizes, Any], Awaitable[ScenarioResult]],
    ],
] = {
    "intake": (intake.setup, intake.measure),
    "fanout": (fanout.setup, fanout.measure),
    "memory": (memory.setup, memory.measure),
}
REPOSITORY = Path(__file__).resolve().parent.parent


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="listserv-bench",
        description="Measure listserv against the physical limit of each path on this machine.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="reduced sizes, under a minute (for CI)"
    )
    parser.add_argument(
        "--json",
        type=Path,
        default=Path("bench-results.json"),
        metavar="PATH",
        help="where to write the results (default: bench-results.json)",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(SCENARIOS),
        metavar="SCENARIO",
        help=f"run only this scenario (repeatable): {', '.join(SCENARIOS)}",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the temporary folder (databases, server logs) and print its path",
    )
    return parser.parse_args(argv)


def _failed(name: str, error: BaseException) -> ScenarioResult:
    traceback.print_exception(error, file=sys.stderr)
    return ScenarioResult(name, [], error=f"{type(error).__name__}: {error}")


async def run_scenarios(
    names: list[str], sizes: Sizes, workdir: Path, *, start_together: bool
) -> list[ScenarioResult]:
    """Each scenario in turn; with `start_together`, every server is started first, at once.

    Starting a server and warming it up takes seconds (imports, the scrub
    worker's parsers), so `--quick` overlaps that for all servers; the
    measurements themselves always run one after the other.
    """
    folders = {name: workdir / name for name in names}
    for folder in folders.values():
        folder.mkdir()
    prepared: dict[str, Prepared | BaseException] = {}
    results: list[ScenarioResult] = []
    try:
        if start_together:
            served = [name for name in names if name in SERVED]
            print(f"starting {', '.join(served)} …", file=sys.stderr, flush=True)
            outcomes = await asyncio.gather(
                *(SERVED[name][0](sizes, folders[name]) for name in served),
                return_exceptions=True,
            )
            prepared.update(zip(served, outcomes, strict=True))
        for name in names:
            print(f"running {name} …", file=sys.stderr, flush=True)
            started = time.monotonic()
            try:
                if name in prepared:
                    ready = prepared[name]
                    if isinstance(ready, BaseException):
                        raise ready
                    result = await SERVED[name][1](sizes, ready)
                else:
                    result = await SCENARIOS[name](sizes, folders[name])
            except Exception as error:
                # One broken scenario must not hide the others' figures.
                result = _failed(name, error)
            result.seconds = time.monotonic() - started
            print(f"  {name} done in {result.seconds:.1f} s", file=sys.stderr, flush=True)
            results.append(result)
    finally:
        for ready in prepared.values():
            if not isinstance(ready, BaseException):
                ready.close()
    return results


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    sizes = QUICK if arguments.quick else FULL
    names = [name for name in SCENARIOS if not arguments.only or name in arguments.only]
    started_at = datetime.now(UTC)
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="listserv-bench-"))
    try:
        results = asyncio.run(run_scenarios(names, sizes, workdir, start_together=arguments.quick))
    finally:
        if arguments.keep:
            print(f"kept {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    seconds = time.monotonic() - started
    print(table(results))
    print(f"\n{'quick' if arguments.quick else 'full'} run, {seconds:.0f} s")
    write_json(
        arguments.json,
        results,
        quick=arguments.quick,
        started_at=started_at,
        seconds=seconds,
        repository=REPOSITORY,
        load_average_at_start=load_before,
    )
    print(f"results written to {arguments.json}")
    return 1 if any(result.error is not None for result in results) else 0


if __name__ == "__main__":
    sys.exit(main())
