"""The admin tests' server: the app over a private copy of the fast index, so a test may ingest
(upload a document, remove a source) without changing the index other tests share."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from advisor.app import create_app
from advisor.container import Container
from advisor.settings import Settings
from tests.api.conftest import copy_of_vectors
from tests.plugins.advisor_app import LiveServer, free_port, serve_app
from tests.plugins.fast import FastIndex

BOOTSTRAP = "console-bootstrap-key-0123456789abcdef"


@pytest.fixture
def server(fast_index: FastIndex, fast_settings: Callable[..., Settings]) -> Iterator[LiveServer]:
    settings = fast_settings(api={"keys": [BOOTSTRAP]})
    container = Container(settings, embedder=fast_index.embedder, vectors=copy_of_vectors(fast_index.vectors))
    with serve_app(create_app(container=container), free_port()) as live:
        yield live
