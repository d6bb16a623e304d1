"""The service applies the retention settings itself, every ``retention.sweep_hours``, so idle
conversations go without anyone running `advisor purge` (each replica may sweep: deletes repeat
harmlessly)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from advisor.periodic import Periodic
from advisor.retention import kept_channels

if TYPE_CHECKING:
    from advisor.retention import RetentionSettings
    from advisor.store.conversations import ConversationRepository

log = logging.getLogger(__name__)


class RetentionSweeper:
    def __init__(
        self, settings: RetentionSettings, conversations: Callable[[], ConversationRepository]
    ) -> None:
        # Asked for at each sweep: the database may not answer yet when the service starts.
        self._settings = settings
        self._conversations = conversations
        self._worker = Periodic("advisor-retention", settings.sweep_hours * 3600, self.sweep)

    @property
    def wanted(self) -> bool:
        return self._settings.sweep_hours > 0 and bool(self._settings.cutoffs())

    def sweep(self) -> int:
        cutoffs, kept = self._settings.cutoffs(), kept_channels(self._settings)
        deleted = sum(self._conversations().purge_idle(cutoffs, kept=kept).values())
        if deleted:
            log.info("retention: deleted %d idle conversations", deleted)
        return deleted

    def start(self) -> None:
        self._worker.start()

    def stop(self) -> None:
        self._worker.stop()
