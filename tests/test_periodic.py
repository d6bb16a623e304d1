"""The background sweeps' worker: runs at once, again every interval, survives a failing round and
stops promptly."""

from __future__ import annotations

import threading
import time

from advisor.periodic import Periodic


def test_runs_at_once_survives_a_failure_and_stops_promptly() -> None:
    rounds: list[float] = []
    twice = threading.Event()

    def job() -> None:
        rounds.append(time.monotonic())
        if len(rounds) == 1:
            raise RuntimeError("the database is away")
        twice.set()

    worker = Periodic("test-sweep", 0.05, job)
    started = time.monotonic()
    worker.start()
    assert twice.wait(5)  # the first round failed, the second still came
    assert rounds[0] - started < 1
    stopping = time.monotonic()
    worker.stop()
    assert time.monotonic() - stopping < 1
    count = len(rounds)
    time.sleep(0.2)
    assert len(rounds) == count  # nothing runs after stop
