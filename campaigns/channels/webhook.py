"""The signed HTTP webhook of the bank's gateways (SMS, app push, WeChat, AI bot).

One POST per message to the channel's gateway (``WORKBENCH_WEBHOOK_<CHANNEL>_URL``):

- body: JSON (UTF-8) ``{"key", "channel", "recipient", "subject", "text", "campaign"}``;
- ``X-Workbench-Timestamp``: Unix seconds when the request was signed;
- ``X-Workbench-Signature``: ``sha256=`` + hex HMAC-SHA256, keyed with the channel's
  secret (``WORKBENCH_WEBHOOK_<CHANNEL>_SECRET``), of ``timestamp + "." + body`` (the
  exact bytes sent). The gateway recomputes it, compares in constant time and refuses a
  timestamp more than five minutes old (:func:`signature_valid` is the reference);
- ``Idempotency-Key``: the message's key. A message is sent again only when a try timed
  out or a worker died mid-send; the gateway must answer a key it has seen with the
  first answer and send nothing twice.

The gateway answers 2xx with ``{"id": "<its message id>"}`` (the id receipts quote).
4xx is permanent (the message fails), except 408 and 429 which, like 5xx, timeouts and
refused connections, are transient: the dispatcher tries again later with backoff.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request

from django.conf import settings
from django.utils.translation import gettext as _

from .base import PermanentError, SendResult, TransientError

SIGNATURE_HEADER = "X-Workbench-Signature"
TIMESTAMP_HEADER = "X-Workbench-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"
SIGNATURE_TOLERANCE_SECONDS = 300
TRANSIENT_4XX = frozenset({408, 429})


def sign(*, secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def signature_valid(*, secret: str, timestamp: str, body: bytes, signature: str, now: float | None = None) -> bool:
    """What the gateway checks: the signature matches and the timestamp is fresh."""
    try:
        age = abs((now if now is not None else time.time()) - int(timestamp))
    except ValueError:
        return False
    return age <= SIGNATURE_TOLERANCE_SECONDS and hmac.compare_digest(
        sign(secret=secret, timestamp=timestamp, body=body), signature
    )


def payload(message) -> bytes:
    return json.dumps(
        {
            "key": message.key,
            "channel": message.channel,
            "recipient": message.recipient,
            "subject": message.subject,
            "text": message.body,
            "campaign": message.campaign.code if message.campaign_id else None,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()


class WebhookAdapter:
    name = "webhook"

    def send(self, message) -> SendResult:
        gateway = settings.WORKBENCH_CHANNEL_WEBHOOKS.get(message.channel) or {}
        if not gateway.get("url") or not gateway.get("secret"):
            raise TransientError(_("No gateway is configured for this channel."))
        body = payload(message)
        timestamp = str(int(time.time()))
        request = urllib.request.Request(  # noqa: S310 - the URL is the operator's https/http gateway
            gateway["url"],
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                TIMESTAMP_HEADER: timestamp,
                SIGNATURE_HEADER: sign(secret=gateway["secret"], timestamp=timestamp, body=body),
                IDEMPOTENCY_HEADER: message.key,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=settings.WORKBENCH_WEBHOOK_TIMEOUT_SECONDS) as response:  # noqa: S310
                answer = response.read(65536)
        except urllib.error.HTTPError as exc:
            text = _("The gateway answered HTTP %(code)s.") % {"code": exc.code}
            if 400 <= exc.code < 500 and exc.code not in TRANSIENT_4XX:
                raise PermanentError(text) from exc
            raise TransientError(text) from exc
        except TimeoutError as exc:
            raise TransientError(_("The gateway did not answer in time.")) from exc
        except (urllib.error.URLError, OSError) as exc:
            raise TransientError(_("The gateway could not be reached.")) from exc
        try:
            external_id = str(json.loads(answer or b"{}").get("id") or "")
        except (ValueError, AttributeError):
            external_id = ""
        # A gateway that names no id of its own is answered by our key in its receipts.
        return SendResult(external_id=(external_id or message.key)[:100])
