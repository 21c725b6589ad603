"""The notify activity: a notice through every configured channel, once per idempotency key."""

import asyncio
from datetime import datetime, timezone

from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity

from domain.messages import Notice
from notifications import Notifier
from store import notices


class NotificationActivities:
    def __init__(self, sessions: sessionmaker[Session], notifiers: list[Notifier]):
        self.sessions = sessions
        self.notifiers = notifiers

    @activity.defn(name="notify")
    async def notify(self, notice: Notice) -> None:
        # Recorded means sent: a retried or repeated notify never tells anyone twice. A retry after
        # a partial failure sends again on the channels that had succeeded, under the same key,
        # which the receivers (webhook, SMS gateway) use to drop the repeat.
        if await asyncio.to_thread(self.already_sent, notice.key):
            return
        channels = [notifier for notifier in self.notifiers if notifier.accepts(notice)]
        for notifier in channels:
            await notifier.send(notice)
        await asyncio.to_thread(self.record, notice, [notifier.name for notifier in channels])

    def already_sent(self, key: str) -> bool:
        with self.sessions() as session:
            return notices.already_sent(session, key)

    def record(self, notice: Notice, channels: list[str]) -> None:
        with self.sessions() as session:
            notices.record(session, notice, channels, datetime.now(timezone.utc))

    def all(self) -> list:
        return [self.notify]
