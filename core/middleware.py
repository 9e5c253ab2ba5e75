"""Request context for audit rows: request id and client address, per request."""

from __future__ import annotations

import contextvars
import uuid

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
client_ip_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("client_ip", default=None)


def client_ip(request) -> str | None:
    # Behind the bank's reverse proxy the left-most X-Forwarded-For entry is the client;
    # only trusted when the deployment says a proxy sets it.
    from django.conf import settings

    if getattr(settings, "WORKBENCH_TRUST_X_FORWARDED_FOR", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR")


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        rid = request.META.get("HTTP_X_REQUEST_ID") or uuid.uuid4().hex
        request.request_id = rid
        t1 = request_id_var.set(rid[:64])
        t2 = client_ip_var.set(client_ip(request))
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(t1)
            client_ip_var.reset(t2)
        response["X-Request-ID"] = rid
        return response
