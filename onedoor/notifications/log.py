"""The default channel: every notice as one structured log line (for development and as an audit trace)."""

import structlog

from onedoor.domain.labels import Audience
from onedoor.domain.messages import Notice
from onedoor.logs import mask_name

log = structlog.get_logger("notifications")


class LogNotifier:
    name = "log"

    def accepts(self, notice: Notice) -> bool:
        return True

    async def send(self, notice: Notice) -> None:
        # Never the phone, a person's name only by its first character, and never the words: a notice
        # may carry what someone typed (a closing notice, the agreed terms). The log is not where the
        # party is reached; the notices table keeps recipient and text, sealed, for whoever may read
        # them (GET /notices).
        recipient = mask_name(notice.recipient) if notice.audience in (Audience.PARTY, Audience.LEADER) else notice.recipient
        log.info("notice", key=notice.key, audience=notice.audience.value, recipient=recipient, kind=notice.kind, case_no=notice.case_no, characters=len(notice.text))
