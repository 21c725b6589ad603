"""The default channel: every notice as one structured log line (for development and as an audit trace)."""

import structlog

from domain.messages import Notice

log = structlog.get_logger("notifications")


class LogNotifier:
    name = "log"

    def accepts(self, notice: Notice) -> bool:
        return True

    async def send(self, notice: Notice) -> None:
        # Never the phone: it is personal data and the log is not where the party is reached.
        log.info("notice", key=notice.key, audience=notice.audience.value, recipient=notice.recipient, kind=notice.kind, case_no=notice.case_no, text=notice.text)
