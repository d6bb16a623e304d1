"""A daemon thread that runs one job now and then every so often until stopped: the background sweeps
(Slack deliveries, conversation retention). A failed round is logged and the next one tried."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Periodic:
    def __init__(self, name: str, seconds: float, job: Callable[[], object]) -> None:
        self._name, self._seconds, self._job = name, seconds, job
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        while True:
            try:
                self._job()
            except Exception:  # the database (or Slack) is away: try again next round
                log.exception("%s failed", self._name)
            if self._stop.wait(self._seconds):
                return
