"""The SMS channel: notices to parties, by phone, through a provider.

A real provider (a carrier's or a cloud SMS API) plugs in by configuration: ONEDOOR_SMS_PROVIDER
= "module:factory", where factory(settings, http) returns an SmsProvider. Without one,
HttpSmsProvider speaks a generic HTTP gateway at ONEDOOR_SMS_URL.
"""

from typing import Protocol

import httpx
import structlog

from onedoor import signing
from onedoor.domain.messages import Notice
from onedoor.notifications.answers import raise_for_answer

log = structlog.get_logger("notifications")


class SmsProvider(Protocol):
    async def send_sms(self, phone: str, text: str, key: str) -> str:
        """Send one text message under an idempotency key; the provider's message id."""
        ...


class HttpSmsProvider:
    """A generic HTTP SMS gateway: POST {"phone", "text", "key"}, answered with {"message_id": …}."""

    def __init__(self, url: str, http: httpx.AsyncClient):
        self.url = url
        self.http = http

    async def send_sms(self, phone: str, text: str, key: str) -> str:
        response = await self.http.post(self.url, json={"phone": phone, "text": text, "key": key}, headers={signing.IDEMPOTENCY_KEY: key})
        raise_for_answer(response, "sms")
        return str((response.json() if response.content else {}).get("message_id") or response.status_code)


class SmsNotifier:
    name = "sms"

    def __init__(self, provider: SmsProvider):
        self.provider = provider

    def accepts(self, notice: Notice) -> bool:
        # Only parties leave a phone at intake; units and leaders are told through their systems.
        return bool(notice.phone)

    async def send(self, notice: Notice) -> None:
        if notice.phone:
            message_id = await self.provider.send_sms(notice.phone, notice.text, notice.key)
            log.info("sms sent", key=notice.key, case_no=notice.case_no, message_id=message_id)
