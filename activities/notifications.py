"""The notify activity: a notice through every configured channel, once per idempotency key."""

import asyncio
from datetime import datetime, timezone

from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity

from onedoor.domain.labels import Audience
from onedoor.domain.messages import Notice
from onedoor.notifications import Notifier
from onedoor.store import notices


class NotificationActivities:
    def __init__(self, sessions: sessionmaker[Session], notifiers: list[Notifier], lookup_url: str | None = None):
        self.sessions = sessions
        self.notifiers = notifiers
        self.lookup_url = lookup_url

    @activity.defn(name="notify")
    async def notify(self, notice: Notice) -> None:
        # Recorded means sent: a retried or repeated notify never tells anyone twice. A retry after
        # a partial failure sends again on the channels that had succeeded, under the same key,
        # which the receivers (webhook, SMS gateway) use to drop the repeat.
        if await asyncio.to_thread(self.already_sent, notice.key):
            return
        notice = self.with_lookup_address(notice)
        channels = [notifier for notifier in self.notifiers if notifier.accepts(notice)]
        for notifier in channels:
            await notifier.send(notice)
        await asyncio.to_thread(self.record, notice, [notifier.name for notifier in channels])

    def with_lookup_address(self, notice: Notice) -> Notice:
        """The registration notice promises the party 可凭编号查询办理进度: it names where. Added here, not
        by the case, so the address follows the deployment's setting (ONEDOOR_PUBLIC_URL) and the
        recorded histories of running cases stay as they were."""
        if self.lookup_url is None or notice.audience != Audience.PARTY or notice.kind != "received":
            return notice
        return notice.model_copy(update={"text": f"{notice.text}查询网址：{self.lookup_url}（输入案件编号和手机号后四位）"})

    def already_sent(self, key: str) -> bool:
        with self.sessions() as session:
            return notices.already_sent(session, key)

    def record(self, notice: Notice, channels: list[str]) -> None:
        with self.sessions() as session:
            notices.record(session, notice, channels, datetime.now(timezone.utc))

    def all(self) -> list:
        return [self.notify]
