"""The webhook channel: each notice POSTed as a signed onedoor.notification/v1 document."""

from datetime import datetime, timezone

import httpx

from onedoor import signing
from onedoor.domain.documents import NotificationDocument
from onedoor.domain.messages import Notice
from onedoor.domain.timezone import as_shanghai
from onedoor.notifications.answers import raise_for_answer


class WebhookNotifier:
    name = "webhook"

    def __init__(self, url: str, secret: str, http: httpx.AsyncClient):
        self.url = url
        self.secret = secret
        self.http = http

    def accepts(self, notice: Notice) -> bool:
        return True

    async def send(self, notice: Notice) -> None:
        # No phone in the document: the receiver is told who and what, not how to reach a party.
        document = NotificationDocument(**notice.model_dump(exclude={"phone"}), at=as_shanghai(datetime.now(timezone.utc)))
        body = document.model_dump_json().encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8", **signing.sign(self.secret, body, notice.key)}
        raise_for_answer(await self.http.post(self.url, content=body, headers=headers), self.name)
