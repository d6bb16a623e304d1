"""`advisor serve` pauses cyclic garbage collection for its start and resumes it, with start-up's
objects frozen, once the warm-up is done."""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator

import pytest

from advisor.startup_gc import pause_collection, resume_collection
from tests.plugins.advisor_app import SettingsFactory, serve


@pytest.fixture(autouse=True)
def _collection_restored() -> Iterator[None]:
    yield
    resume_collection()
    gc.unfreeze()  # frozen test objects would otherwise never be collected
    gc.enable()


def test_resume_freezes_and_reenables_only_after_a_pause() -> None:
    gc.unfreeze()
    resume_collection()  # not paused: nothing happens
    assert gc.isenabled() and gc.get_freeze_count() == 0
    pause_collection()
    assert not gc.isenabled()
    resume_collection()
    assert gc.isenabled() and gc.get_freeze_count() > 0


def test_the_server_resumes_collection_once_warm(indexed_settings: SettingsFactory) -> None:
    pause_collection()
    with serve(indexed_settings()) as server, server.client() as http:
        deadline = time.monotonic() + 120
        while http.get("/readyz").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        while not gc.isenabled() and time.monotonic() < deadline:
            time.sleep(0.01)  # the warm-up task resumes collection just after it finishes
        assert gc.isenabled() and gc.get_freeze_count() > 0
