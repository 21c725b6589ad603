"""Notifications (通知): parties told their case number and progress, units and leaders their
reminders, breaches and supervision orders — through the channels configuration names."""

import importlib

import httpx

from onedoor.notifications.log import LogNotifier
from onedoor.notifications.port import Notifier
from onedoor.notifications.sms import HttpSmsProvider, SmsNotifier, SmsProvider
from onedoor.notifications.webhook import WebhookNotifier
from onedoor.settings import Settings

__all__ = ["Notifier", "build_notifiers"]


class NotificationSetupError(ValueError):
    """The configuration names a channel it does not say how to reach: refused at startup."""


def build_notifiers(settings: Settings, http: httpx.AsyncClient) -> list[Notifier]:
    """One notifier per configured channel (ONEDOOR_NOTIFY_CHANNELS), in that order."""
    return [channel(name, settings, http) for name in dict.fromkeys(settings.notify_channels)]


def channel(name: str, settings: Settings, http: httpx.AsyncClient) -> Notifier:
    if name == "log":
        return LogNotifier()
    if name == "webhook":
        if not (settings.notification_webhook_url and settings.notification_webhook_secret):
            raise NotificationSetupError("通知渠道 webhook 需要 ONEDOOR_NOTIFICATION_WEBHOOK_URL 和 ONEDOOR_NOTIFICATION_WEBHOOK_SECRET (webhook channel needs a URL and a secret)")
        return WebhookNotifier(settings.notification_webhook_url, settings.notification_webhook_secret.get_secret_value(), http)
    if name == "sms":
        return SmsNotifier(sms_provider(settings, http))
    raise NotificationSetupError(f"未知通知渠道 {name} (unknown notification channel; log, webhook or sms)")


def sms_provider(settings: Settings, http: httpx.AsyncClient) -> SmsProvider:
    if settings.sms_provider:
        module, _, factory = settings.sms_provider.partition(":")
        try:
            make = getattr(importlib.import_module(module), factory)
        except (ImportError, AttributeError) as missing:
            raise NotificationSetupError(f"找不到短信服务商 {settings.sms_provider} (ONEDOOR_SMS_PROVIDER: {missing})") from missing
        return make(settings, http)
    if settings.sms_url:
        return HttpSmsProvider(settings.sms_url, http)
    raise NotificationSetupError("通知渠道 sms 需要 ONEDOOR_SMS_URL 或 ONEDOOR_SMS_PROVIDER (sms channel needs a gateway URL or a provider)")
