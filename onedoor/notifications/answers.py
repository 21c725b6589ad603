"""How an outside system's HTTP answer maps to Temporal's retries, for the HTTP adapters."""

import httpx
from temporalio.exceptions import ApplicationError

# A 4xx means the request is wrong for the receiver: sending it again cannot help, except these.
RETRYABLE_CLIENT_ERRORS = {408, 429}


def raise_for_answer(response: httpx.Response, channel: str) -> None:
    if response.status_code < 400:
        return
    retryable = response.status_code >= 500 or response.status_code in RETRYABLE_CLIENT_ERRORS
    raise ApplicationError(
        f"通知渠道 {channel} 拒收 (answered {response.status_code}): {response.text[:200]}",
        type="NotificationRejected",
        non_retryable=not retryable,
    )
