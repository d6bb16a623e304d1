"""Keep-alive for long streams: a comment line when the answer is quiet, so proxies and load
balancers with idle timeouts do not cut a stream while the model is thinking."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

KEEPALIVE = ": keep-alive\n\n"  # an SSE comment: every client of the protocol skips it


async def with_keepalive(source: AsyncIterator[str], every_seconds: float) -> AsyncIterator[str]:
    """The items of ``source``, plus :data:`KEEPALIVE` after each ``every_seconds`` without one."""
    pending: asyncio.Future[str] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(anext(source))
            done, _ = await asyncio.wait({pending}, timeout=every_seconds)
            if not done:
                yield KEEPALIVE
                continue
            try:
                item = pending.result()
            except StopAsyncIteration:
                return
            pending = None
            yield item
    finally:
        if pending is not None and not pending.done():
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                await pending
