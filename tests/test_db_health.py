"""A lost database connection: a read is retried once, a write answers 503 with Retry-After, never 500."""

from __future__ import annotations

import json
import sys
from unittest import mock

import pytest
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.test import RequestFactory

from taxservice.api import errors, views
from taxservice.idempotency.models import IdempotencyRecord
from taxservice.workflow.cases.models import Case


def failing(method, *, times: int, exc=OperationalError):
    """Wrap a view method so its first `times` calls raise `exc`; count the calls."""
    calls = []

    def wrapper(self, request, *args, **kwargs):
        calls.append(request.method)
        if len(calls) <= times:
            raise exc("server closed the connection unexpectedly")
        return method(self, request, *args, **kwargs)

    return wrapper, calls


def test_persistent_connections_are_health_checked():
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("exc", [OperationalError, InterfaceError])
def test_a_read_that_loses_the_connection_is_retried_once(api, org, exc):
    wrapper, calls = failing(views.MeView.get, times=1, exc=exc)
    with mock.patch.object(views.MeView, "get", wrapper):
        response = api(org.clerk).get("/api/v1/me/")
    assert response.status_code == 200, response.content[:300]
    assert response.json()["id"] == org.clerk.pk
    assert calls == ["GET", "GET"]


@pytest.mark.django_db(transaction=True)
def test_a_read_that_fails_twice_is_503_json(api, org):
    wrapper, calls = failing(views.MeView.get, times=2)
    with mock.patch.object(views.MeView, "get", wrapper):
        response = api(org.clerk).get("/api/v1/me/")
    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    assert response.json()["code"] == "database_unavailable" and response.json()["detail"]
    assert calls == ["GET", "GET"]


def test_a_write_that_loses_the_connection_is_503_not_retried(api, org, taxpayer, items):
    from taxservice.workflow.cases import services

    payload = {"taxpayer": taxpayer.credit_code, "channel": "hall_window", "hall": "H01", "items": [{"item": "I001"}]}
    with mock.patch.object(services, "case_open", side_effect=OperationalError("terminating connection")) as call:
        response = api(org.clerk).post("/api/v1/cases/", payload, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert response.status_code == 503
    assert (response["Retry-After"], response.json()["code"]) == ("1", "database_unavailable")
    assert call.call_count == 1
    # The key stays free: the client's retry runs the write.
    assert not IdempotencyRecord.objects.exists()
    retried = api(org.clerk).post("/api/v1/cases/", payload, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert retried.status_code == 201 and Case.objects.count() == 1


def test_inside_a_transaction_a_read_is_not_retried_but_still_503(api, org):
    # The test's own transaction stands in for ATOMIC_REQUESTS: the connection cannot be
    # replaced without losing it, so the read is not run again.
    wrapper, calls = failing(views.MeView.get, times=1)
    with mock.patch.object(views.MeView, "get", wrapper):
        response = api(org.clerk).get("/api/v1/me/")
    assert (response.status_code, response.json()["code"]) == (503, "database_unavailable")
    assert calls == ["GET"]


def test_a_page_that_loses_the_connection_is_a_plain_503_page(client, org):
    from taxservice.web import views as web_views

    with mock.patch.object(web_views.LoginView, "get", side_effect=OperationalError("gone")):
        response = client.get("/login/")
    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    assert response["Content-Type"].startswith("text/html")
    assert b"<h1>" in response.content


@pytest.mark.parametrize(("path", "content_type"), [("/api/v1/cases/", "application/json"), ("/", "text/html")])
def test_a_connection_error_outside_any_view_is_503_too(path, content_type):
    # Raised by a middleware (a session save): Django's handler500 is called while the
    # exception is handled, and answers 503 for a database error.
    request = RequestFactory().get(path)
    try:
        raise OperationalError("connection reset")
    except OperationalError:
        assert isinstance(sys.exc_info()[1], OperationalError)
        response = errors.server_error(request)
    assert response.status_code == 503 and response["Content-Type"].startswith(content_type)


@pytest.mark.parametrize(("path", "status"), [("/api/v1/cases/", 500), ("/", 500)])
def test_any_other_error_stays_a_500(path, status, db):
    request = RequestFactory().get(path)
    try:
        raise RuntimeError("bug")
    except RuntimeError:
        response = errors.server_error(request)
    assert response.status_code == status
    if path.startswith("/api/"):
        assert json.loads(response.content)["code"] == "server_error"
