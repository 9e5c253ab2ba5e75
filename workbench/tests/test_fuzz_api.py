"""Gate: the API never answers a server error and always answers what its OpenAPI
document says, for anything a client may send that the document allows.

A bounded schemathesis run over the project's own document (generated here, as
``/api/schema/`` serves it), in process against the WSGI application, authenticated with a
token as an administrator and as an advisor, over a small seeded world. Each operation
gets ``MAX_EXAMPLES`` generated requests with a fixed seed (``derandomize``), so the run is
the same every time and stays well under two minutes on this machine.
"""

from __future__ import annotations

import datetime as dt
import logging
import traceback
from io import StringIO

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.signals import got_request_exception, request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, given, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = pytest.mark.slow

MAX_EXAMPLES = 25
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def seeded(db):
    call_command("seed_demo", customers=40, seed=11, today=dt.date(2026, 11, 2), stdout=StringIO())
    return get_user_model().objects


def _fuzz(schema, app, headers) -> tuple[list[str], int]:
    """Run every operation; the distinct failures (with how often each was seen) and the
    number of calls."""
    failures: dict[str, int] = {}
    failures_full: dict[str, str] = {}
    calls = 0
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(
            max_examples=MAX_EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.generate],  # no shrinking: failures are collected
        )
        @given(case=operation.as_strategy())
        def run(case):
            nonlocal calls
            calls += 1
            response = case.call(app=app, headers=headers)
            try:
                case.validate_response(response, checks=CHECKS)
            except (AssertionError, BaseExceptionGroup) as exc:  # every failure is collected
                key = f"{case.operation.method.upper()} {case.operation.path}: {str(exc)[:1200]}"
                # one entry per operation and kind of failure (the first message line)
                kind = key.split("Validated against")[0][:300]
                failures.setdefault(kind, 0)
                failures[kind] += 1
                failures_full.setdefault(kind, key)

        run()
    return [f"({n}x) {failures_full[k]}" for k, n in failures.items()], calls


@pytest.mark.parametrize("username", ["admin", "advisor1"])
def test_api_answers_no_server_error_and_keeps_to_its_schema(seeded, username):
    logging.getLogger("django.request").setLevel(logging.CRITICAL)
    document = SchemaGenerator().get_schema(request=None, public=True)
    schema = schemathesis.openapi.from_dict(document)
    token, _created = Token.objects.get_or_create(user=seeded.get(username=username))
    errors: list[str] = []

    def record(sender, request=None, **kwargs):  # the first server error's cause, for the report
        errors.append(f"{request.method} {request.get_full_path()[:300]}\n{traceback.format_exc()[-3000:]}")

    got_request_exception.connect(record)
    # As Django's test client does: the WSGI handler would otherwise close the test's
    # database connection after each request (PostgreSQL, CONN_MAX_AGE 0).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        failures, calls = _fuzz(schema, get_wsgi_application(), {"Authorization": f"Token {token.key}"})
    finally:
        got_request_exception.disconnect(record)
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    assert calls > 100
    assert not failures, (
        f"{len(failures)} failures in {calls} calls:\n" + "\n\n".join(failures[:30]) + "\n\n" + "\n".join(errors[:1])
    )
