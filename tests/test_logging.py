"""Logs (issue #13, defect 14): an ordinary 4xx is one line without a traceback, every line
is printed once, and a 5xx keeps its traceback.

The tests read what the configured handlers actually print (LOGGING in settings.py), not
pytest's capture: a line printed twice by two handlers is what a reader of the log sees.
"""

from __future__ import annotations

import io
import logging

import pytest
from django.core.exceptions import BadRequest
from django.urls import include, path

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.test_logging")]


def _boom(request):
    raise RuntimeError("the database went away")


def _bad(request):
    raise BadRequest("Malformed filter")


urlpatterns = [
    path("test-logging/boom/", _boom),
    path("test-logging/bad/", _bad),
    path("", include("taxservice.urls")),
]


@pytest.fixture
def printed(settings):
    """What the project's log handlers print while the test runs (under DEBUG, as in
    development, where Django's own console handler is live too)."""
    settings.DEBUG = True
    buffer = io.StringIO()
    swapped = []
    seen = set()
    logger: logging.Logger | None = logging.getLogger("django.request")
    while logger is not None:
        for handler in logger.handlers:
            # pytest's own capture handlers are not the project's output.
            if isinstance(handler, logging.StreamHandler) and not type(handler).__module__.startswith("_pytest"):
                if id(handler) not in seen:
                    seen.add(id(handler))
                    swapped.append((handler, handler.setStream(buffer)))
        logger = logger.parent if logger.propagate else None
    assert swapped, "no console handler on the way from django.request to the root"
    yield buffer
    for handler, stream in swapped:
        handler.setStream(stream)


def _lines(buffer: io.StringIO) -> list[str]:
    return buffer.getvalue().splitlines()


def test_a_403_page_logs_one_line_without_a_traceback(client, org, printed, caplog):
    client.force_login(org.clerk.user)
    with caplog.at_level(logging.INFO, logger="django"):
        response = client.get("/back-office/")
    assert response.status_code == 403
    assert _lines(printed) == ["Forbidden (Permission denied): /back-office/"]
    records = [record for record in caplog.records if record.name.startswith("django")]
    assert len(records) == 1
    assert records[0].exc_info is None and not records[0].exc_text


def test_a_400_logs_one_line_without_a_traceback(client, printed):
    response = client.get("/test-logging/bad/")
    assert response.status_code == 400
    assert _lines(printed) == ["Malformed filter: /test-logging/bad/"]


def test_a_404_and_an_api_403_log_one_line_each(client, api, org, items, taxpayer, printed):
    client.force_login(org.clerk.user)
    assert client.get("/cases/987654/").status_code == 404
    pushed = {"source": "risk", "taxpayer": taxpayer.credit_code, "item": "A001"}
    assert api(org.back_member).post("/api/v1/tasks/", pushed, format="json").status_code == 403
    assert _lines(printed) == ["Not Found: /cases/987654/", "Forbidden: /api/v1/tasks/"]


def test_a_500_keeps_its_traceback_once(client, printed):
    client.raise_request_exception = False
    response = client.get("/test-logging/boom/")
    assert response.status_code == 500
    output = printed.getvalue()
    assert output.startswith("Internal Server Error: /test-logging/boom/\n")
    assert output.count("Traceback (most recent call last)") == 1
    assert output.count("RuntimeError: the database went away") == 1
