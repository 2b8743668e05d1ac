"""The Content-Security-Policy (issue #15, finding 9): only the platform's own files, no
inline script or style, htmx without eval."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

PAGES = [
    ("clerk", "home"),
    ("clerk", "frontdesk:consult"),
    ("coordinator", "middle_office:hub"),
    ("coordinator", "middle_office:queue"),
    ("coordinator", "middle_office:staff"),
    ("chief", "back_office:approvals"),
    ("admin", "classification"),
    ("admin", "calendar"),
    ("admin", "api_tokens"),
    ("member", "my_tasks"),
    ("member", "case_list"),
]


def _directives(header: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def test_every_page_has_a_strict_policy(client):
    answer = client.get(reverse("login"))
    policy = _directives(answer["Content-Security-Policy"])
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "data:"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]


def test_htmx_runs_without_eval(client):
    page = client.get(reverse("login")).content.decode()
    config = re.search(r'<meta name="htmx-config" content=\'([^\']*)\'>', page)
    assert config is not None
    assert '"allowEval": false' in config.group(1)
    assert '"includeIndicatorStyles": false' in config.group(1)


@pytest.mark.parametrize(("who", "url_name"), PAGES)
def test_rendered_pages_have_no_inline_script_or_style(client, org, who, url_name):
    client.force_login(getattr(org, who).user)
    answer = client.get(reverse(url_name))
    assert answer.status_code == 200, url_name
    page = answer.content.decode()
    for script in re.findall(r"<script\b[^>]*>", page):
        assert "src=" in script, script  # every script is a file
    assert not re.search(r"<script\b[^>]*>\s*[^<\s]", page), "an inline script body"
    assert not re.search(r"\sstyle=", page), "an inline style attribute"
    assert "<style" not in page
    assert not re.search(r"\son[a-z]+=", page), "an inline event handler"
    assert not re.search(r"hx-(on|vars)\b|js:", page)


def test_only_the_api_docs_allow_inline_styles_and_still_no_inline_script(client, org):
    client.force_login(org.admin.user)
    answer = client.get("/api/docs/", HTTP_ACCEPT="text/html")
    assert answer.status_code == 200
    policy = _directives(answer["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert "'unsafe-inline'" in policy["style-src"]
    page = answer.content.decode()
    assert not re.search(r"<script\b[^>]*>\s*[^<\s]", page)
    assert "?script=" in page  # Swagger UI's start-up script is a file of its own
