"""Server timing: how long a response took and how much of it was SQL.

With ``WORKBENCH_SERVER_TIMING`` on, every response carries a standard ``Server-Timing``
header (``app``: the whole view and template time, ``db``: the SQL time, with the query
count as its description), which the browser's developer tools draw and
`bench/pages_bench.py` reads over HTTP. Off by default: it costs a wrapper call per
query, and the figures are for the people tuning the product, not for every visitor.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.db import connections


class _QueryClock:
    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.count += 1


class ServerTimingMiddleware:
    def __init__(self, get_response):
        if not settings.WORKBENCH_SERVER_TIMING:
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request):
        clock = _QueryClock()
        started = time.perf_counter()
        wrappers = [connections[alias].execute_wrapper(clock) for alias in connections]
        for w in wrappers:
            w.__enter__()
        try:
            response = self.get_response(request)
            if hasattr(response, "render") and callable(response.render) and not response.is_rendered:
                response.render()
        finally:
            for w in reversed(wrappers):
                w.__exit__(None, None, None)
        total = (time.perf_counter() - started) * 1000
        response["Server-Timing"] = f'app;dur={total:.2f}, db;dur={clock.seconds * 1000:.2f};desc="{clock.count}"'
        return response
