"""The notification port: one notice, told through a channel (log, webhook, SMS).

An adapter raises when it could not deliver, so Temporal retries the notify activity; a refusal
that a retry cannot cure is an ApplicationError with non_retryable=True.
"""

from typing import Protocol

from onedoor.domain.messages import Notice


class Notifier(Protocol):
    name: str  # the channel, as recorded in the notices register

    def accepts(self, notice: Notice) -> bool:
        """Whether this channel carries the notice at all (SMS: only to someone with a phone)."""
        ...

    async def send(self, notice: Notice) -> None: ...
