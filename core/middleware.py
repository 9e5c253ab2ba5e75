"""Per-request middleware: the request context of audit rows, the one edge that refuses
control characters in any request, the security headers every page and API response
carries, and the idle timeout of a signed-in session."""

from __future__ import annotations

import contextvars
import re
import time
import uuid

from django.conf import settings
from django.contrib.auth import logout
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpResponseBadRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
client_ip_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("client_ip", default=None)

# When the session was last seen active (epoch seconds): stamped at log-in, refreshed by
# SessionIdleMiddleware.
SESSION_SEEN_KEY = "wb_seen"
# The stamp (and so the session row) is rewritten at most this often: an idle timeout of
# minutes needs no write per request.
SESSION_REFRESH_SECONDS = 60


def client_ip(request) -> str | None:
    # Behind the bank's reverse proxy the left-most X-Forwarded-For entry is the client;
    # only trusted when the deployment says a proxy sets it.
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


# Control characters no person types into a search box or a form: NUL (which PostgreSQL
# refuses in any text and which would otherwise reach the database as a 500), escape and
# the other C0 codes, and DEL. Tab, line feed and carriage return are what a textarea sends.
# Also what a broken decoder leaves behind (lone UTF-16 surrogates). Imports check file
# cells against the same set (customers.ingest).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
# The same characters written as JSON escapes ("\u0000"), not preceded by an escaping backslash.
JSON_CONTROL_ESCAPES = re.compile(rb"(?<!\\)(?:\\\\)*\\u00(?:[01][0-8bcefBCEF]|1[0-9a-fA-F]|7[fF])")


def _has_control_characters(data) -> bool:
    return any(CONTROL_CHARACTERS.search(k) or any(CONTROL_CHARACTERS.search(v) for v in data.getlist(k)) for k in data)


class RefuseControlCharactersMiddleware:
    """One edge for every page and the API: a query string or a form body with control
    characters is answered 400, in the user's language, before any view reads it.

    Runs after the locale middleware (the message is in the user's language) and before
    anything else reads the body. Uploaded files are not looked at: their bytes are the
    import's to judge; their names are.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._refused(request):
            message = _("The request contains control characters (such as a NUL byte); remove them and try again.")
            if request.path.startswith("/api/"):
                # "detail" as DRF's errors, "errors" as the ingest API's (customers.api)
                body = {"detail": str(message), "errors": [{"path": "", "message": str(message)}]}
                return JsonResponse(body, status=400)
            return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
        return self.get_response(request)

    @staticmethod
    def _refused(request) -> bool:
        if _has_control_characters(request.GET) or CONTROL_CHARACTERS.search(request.path):
            return True
        if request.method not in ("POST", "PUT", "PATCH"):
            return False
        content_type = request.META.get("CONTENT_TYPE", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            try:
                if _has_control_characters(request.POST):
                    return True
                return any(CONTROL_CHARACTERS.search(f.name or "") for f in request.FILES.values())
            except (MultiPartParserError, RequestDataTooBig, TooManyFieldsSent, UnicodeDecodeError):
                return False  # Django answers these itself when the view reads the body
        if "json" in content_type:
            try:
                return bool(JSON_CONTROL_ESCAPES.search(request.body))
            except RequestDataTooBig:
                return False
        return False


class SecurityHeadersMiddleware:
    """The Content-Security-Policy (``WORKBENCH_CSP``) on every response, and
    ``Cache-Control: no-store`` on every page and API answer: nearly all of them show
    personal data, and a shared or back-button cache must keep none of it.

    Sits right after WhiteNoise, so static files keep their long cache and every dynamic
    response (redirects to log in and error pages too) gets both headers. A response that
    declares itself ``public`` keeps its own caching (none does today).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = settings.WORKBENCH_CSP
        if policy and not response.has_header("Content-Security-Policy"):
            response["Content-Security-Policy"] = policy
        if "public" not in response.get("Cache-Control", ""):
            patch_cache_control(response, no_store=True, no_cache=True, must_revalidate=True, private=True)
        return response


def session_stamp_login(sender, request, user, **kwargs) -> None:
    """``user_logged_in`` receiver (connected in ``CoreConfig.ready``): a new session starts
    its idle clock at log-in, written with the log-in's own session save."""
    session = getattr(request, "session", None)
    if session is not None:
        session[SESSION_SEEN_KEY] = int(time.time())


class SessionIdleMiddleware:
    """End a signed-in session after ``WORKBENCH_SESSION_IDLE_MINUTES`` without a request.

    The stamp is refreshed at most once a minute; every refresh also moves the session
    row's own expiry (``SESSION_COOKIE_AGE`` is the idle time), so the database forgets an
    idle session even if no request ever comes back. An expired session is logged out
    before the view runs; ``LoginRequiredMiddleware`` then sends the browser to log in.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        if session is not None and session.session_key:
            self._check(request, session)
        return self.get_response(request)

    def _check(self, request, session) -> None:
        seen = session.get(SESSION_SEEN_KEY)
        if seen is None:
            if "_auth_user_id" in session:  # signed in before the idle clock existed
                session[SESSION_SEEN_KEY] = int(time.time())
            return
        now = int(time.time())
        if now - int(seen) > settings.WORKBENCH_SESSION_IDLE_MINUTES * 60:
            logout(request)
            return
        if now - int(seen) >= SESSION_REFRESH_SECONDS:
            session[SESSION_SEEN_KEY] = now
