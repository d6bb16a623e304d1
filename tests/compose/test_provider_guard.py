"""The LLM provider's guard: a bounded number of calls in flight, and a circuit breaker that opens on
failures in a row, refuses calls for a cool-down, then lets one trial call decide."""

from __future__ import annotations

import pytest

from advisor.compose.provider_guard import CallRefused, ProviderCall, ProviderGuard


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def guard(clock: Clock, *, limit: int = 4, failures: int = 3, cooldown: float = 30.0) -> ProviderGuard:
    return ProviderGuard(limit, failures, cooldown, clock=clock)


def finish(call: ProviderCall, ok: bool | None) -> None:
    call.settle(ok)
    call.release()


def refusal(g: ProviderGuard) -> str:
    with pytest.raises(CallRefused) as refused:
        g.admit()
    return refused.value.reason


def test_calls_beyond_the_limit_are_refused_at_once_and_admitted_again_when_one_ends(clock: Clock) -> None:
    g = guard(clock, limit=2)
    first, second = g.admit(), g.admit()
    assert g.in_flight == 2
    assert refusal(g) == "busy"
    finish(first, True)
    third = g.admit()
    assert g.in_flight == 2 and g.refused == {"busy": 1, "open": 0}
    finish(second, True)
    finish(third, True)
    assert g.in_flight == 0


def test_a_slot_is_held_until_release_even_after_the_caller_gave_up(clock: Clock) -> None:
    g = guard(clock, limit=1)
    call = g.admit()
    call.settle(False)  # the caller's deadline passed; the worker still waits on the provider
    assert refusal(g) == "busy"
    call.release()
    call.release()  # twice is harmless
    assert g.in_flight == 0
    finish(g.admit(), True)


def test_failures_in_a_row_open_the_breaker_and_a_success_resets_the_count(clock: Clock) -> None:
    g = guard(clock, failures=3)
    for ok in (False, False, True, False, False):
        finish(g.admit(), ok)
    assert g.state == "closed"  # never three in a row
    finish(g.admit(), False)
    assert g.state == "open" and g.times_opened == 1
    assert refusal(g) == "open"
    assert g.retry_in() == 30.0


def test_after_the_cool_down_one_trial_call_closes_the_breaker(clock: Clock) -> None:
    g = guard(clock, failures=1, cooldown=30.0)
    finish(g.admit(), False)
    clock.now += 29.9
    assert refusal(g) == "open"
    clock.now += 0.1
    assert g.state == "half_open"
    trial = g.admit()
    assert refusal(g) == "open"  # only one trial at a time
    finish(trial, True)
    assert g.state == "closed"
    finish(g.admit(), True)


def test_a_failed_trial_opens_the_breaker_for_another_cool_down(clock: Clock) -> None:
    g = guard(clock, failures=1, cooldown=30.0)
    finish(g.admit(), False)
    clock.now += 31
    finish(g.admit(), False)
    assert g.state == "open" and g.retry_in() == 30.0
    assert g.times_opened == 1  # still the same outage


def test_a_trial_without_a_verdict_lets_the_next_call_try(clock: Clock) -> None:
    g = guard(clock, failures=1, cooldown=5.0)
    finish(g.admit(), False)
    clock.now += 5
    finish(g.admit(), None)  # the reader went away: nothing learnt about the provider
    assert g.state == "half_open"
    finish(g.admit(), True)
    assert g.state == "closed"


def test_only_the_first_outcome_of_a_call_counts(clock: Clock) -> None:
    g = guard(clock, failures=1)
    call = g.admit()
    call.settle(False)  # timed out for the caller
    call.settle(True)  # the provider answered later: too late to count as healthy
    call.release()
    assert g.state == "open"


def test_an_unguarded_call_changes_nothing() -> None:
    call = ProviderCall(None)
    call.settle(False)
    call.release()
