"""`python -m bench --quick` works end to end: every scenario runs, one table, one JSON.

This checks that the benchmark runs against the real server and reports,
not how fast anything is: figures on a shared CI machine say nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.__main__ import SCENARIOS
from bench.report import HEADERS

REPOSITORY = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_quick_run_prints_the_table_and_writes_every_scenario(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    finished = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--json", str(results)],
        cwd=tmp_path,  # nothing may be written into the working directory
        env={**os.environ, "PYTHONPATH": str(REPOSITORY)},
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr[-4000:]

    header = next(line for line in finished.stdout.splitlines() if line.startswith("scenario"))
    assert header.split() == [word for title in HEADERS for word in title.split()]
    for label in ("intake", "fan-out", "scrub", "archive search", "memory"):
        assert any(line.startswith(label) for line in finished.stdout.splitlines()), label
    assert list(tmp_path.iterdir()) == [results]

    document = json.loads(results.read_text())
    assert len(document["commit"]) == 40
    assert document["cpu_count"] == os.cpu_count()
    assert document["quick"] is True
    assert set(document["scenarios"]) == set(SCENARIOS)
    for name, scenario in document["scenarios"].items():
        assert scenario["error"] is None, name
        assert scenario["rows"], name
        for row in scenario["rows"]:
            if row["available"]:
                assert row["listserv"], row
                assert row["baseline"], row
                assert row["met"] in (True, False, None), row
            else:
                assert row["note"], row  # "not available" always says why
    intake = document["scenarios"]["intake"]["details"]
    assert intake["listserv"]["accepted"] > 0
    assert intake["baseline"]["accepted"] > 0
    memory = document["scenarios"]["memory"]["details"]
    assert memory["peak_rss_bytes"] >= memory["idle_rss_bytes"] > 0
