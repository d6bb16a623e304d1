"""Protects the service from its LLM provider: a bounded number of calls in flight and a circuit
breaker. A call beyond the limit, or while the breaker is open, is refused at once, so the turn
answers from the guidance instead of queueing behind a provider that stalls (each waiting call
holds one of the threads that retrieval and every other endpoint share).

The breaker opens after ``failures_to_open`` provider failures in a row, refuses calls for
``cooldown_seconds``, then lets one trial call through (half-open): its success closes the breaker,
its failure opens it again for another cool-down.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Literal

BreakerState = Literal["closed", "open", "half_open"]
BREAKER_STATES: tuple[BreakerState, ...] = ("closed", "open", "half_open")


class CallRefused(Exception):
    """No call was made: the limit is reached (``busy``) or the breaker is open (``open``)."""

    def __init__(self, reason: Literal["busy", "open"], message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class ProviderCall:
    """One admitted call. ``settle`` records its outcome once (the first word counts: a call the
    caller gave up on at its deadline is a failure even if the provider answers later); ``release``
    frees its slot when the worker running it has really stopped."""

    def __init__(self, guard: ProviderGuard | None, trial: bool = False) -> None:
        """``guard`` None: a call nothing limits (an LLM composer built without a guard)."""
        self._guard = guard
        self._trial = trial
        self._settled = False
        self._released = False
        self._lock = threading.Lock()

    def settle(self, ok: bool | None) -> None:
        """``True``: the provider answered; ``False``: it failed; ``None``: no verdict (the caller
        stopped reading, or the request was refused for a reason that says nothing of the provider)."""
        with self._lock:
            if self._settled:
                return
            self._settled = True
        if self._guard is not None:
            self._guard._record(ok, self._trial)

    def release(self) -> None:
        with self._lock:
            if self._released:
                return
            self._released = True
        self.settle(None)
        if self._guard is not None:
            self._guard._release()


class ProviderGuard:
    def __init__(
        self,
        max_concurrent: int,
        failures_to_open: int,
        cooldown_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_concurrent = max_concurrent
        self.failures_to_open = failures_to_open
        self.cooldown_seconds = cooldown_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._in_flight = 0
        self._failures = 0  # in a row
        self._opened_at: float | None = None
        self._trial_running = False
        # Read by /metrics: cumulative since start.
        self.refused = {"busy": 0, "open": 0}
        self.times_opened = 0

    # -- state -----------------------------------------------------------------------------------
    @property
    def in_flight(self) -> int:
        return self._in_flight

    @property
    def state(self) -> BreakerState:
        with self._lock:
            return self._state()

    def _state(self) -> BreakerState:
        if self._opened_at is None:
            return "closed"
        if self._trial_running or self._clock() - self._opened_at >= self.cooldown_seconds:
            return "half_open"
        return "open"

    def retry_in(self) -> float:
        """Seconds until the breaker lets a trial call through (0 when it would now)."""
        with self._lock:
            if self._opened_at is None:
                return 0.0
            return max(0.0, self._opened_at + self.cooldown_seconds - self._clock())

    # -- calls -----------------------------------------------------------------------------------
    def admit(self) -> ProviderCall:
        """A slot for one call, or :class:`CallRefused` at once."""
        with self._lock:
            state = self._state()
            if state == "open" or (state == "half_open" and self._trial_running):
                self.refused["open"] += 1
                raise CallRefused("open", "the provider failed repeatedly; not calling it for a while")
            if self._in_flight >= self.max_concurrent:
                self.refused["busy"] += 1
                raise CallRefused("busy", f"{self.max_concurrent} model calls already in flight")
            trial = state == "half_open"
            self._trial_running = trial
            self._in_flight += 1
        return ProviderCall(self, trial)

    def _record(self, ok: bool | None, trial: bool) -> None:
        with self._lock:
            if trial:
                self._trial_running = False
            if ok is None:
                return
            if ok:
                self._failures = 0
                self._opened_at = None
                return
            self._failures += 1
            if trial:
                self._opened_at = self._clock()  # the trial failed: another cool-down
            elif self._opened_at is None and self._failures >= self.failures_to_open:
                self._opened_at = self._clock()
                self.times_opened += 1

    def _release(self) -> None:
        with self._lock:
            self._in_flight -= 1
