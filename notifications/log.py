"""The default channel: every notice as one structured log line (for development and as an audit trace)."""

import structlog

from domain.labels import Audience
from domain.messages import Notice
from logs import mask_name

log = structlog.get_logger("notifications")


class LogNotifier:
    name = "log"

    def accepts(self, notice: Notice) -> bool:
        return True

    async def send(self, notice: Notice) -> None:
        # Never the phone, and a person's name only by its first character: the log is not where the
        # party is reached (the notices table keeps the recipient for whoever may read it).
        recipient = mask_name(notice.recipient) if notice.audience in (Audience.PARTY, Audience.LEADER) else notice.recipient
        log.info("notice", key=notice.key, audience=notice.audience.value, recipient=recipient, kind=notice.kind, case_no=notice.case_no, text=notice.text)
