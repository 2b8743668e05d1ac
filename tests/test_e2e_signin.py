"""End to end in Debian's Chromium: the Content-Security-Policy holds on a walk through the
pages (no violation in the console, htmx still swaps), the administrators' tokens page, and
the lockout after five wrong passwords. Screenshots: test-artifacts/90-….
"""

from __future__ import annotations

import re

from tests.browser import BROWSER_MARKS, shot, sign_in

pytestmark = BROWSER_MARKS


def _watch_console(page) -> list[str]:
    messages: list[str] = []
    page.on("console", lambda message: messages.append(f"{message.type}: {message.text}"))
    return messages


def _csp_violations(messages: list[str]) -> list[str]:
    return [m for m in messages if "Content Security Policy" in m or "Refused to" in m or "unsafe-eval" in m]


def test_a_walk_through_the_pages_breaks_no_rule_of_the_policy(page, live_server, org):
    console = _watch_console(page)
    base = live_server.url
    sign_in(page, base, "admin")
    for path in ("/", "/my-tasks/", "/cases/", "/calendar/", "/classification/", "/middle-office/hub/", "/api-tokens/"):
        answer = page.goto(base + path)
        assert answer.status == 200, path
        assert "script-src 'self'" in answer.headers["content-security-policy"]
    # Swagger UI: its start-up script is a file; only its styles are inline.
    page.goto(base + "/api/docs/")
    page.wait_for_selector(".swagger-ui .info", timeout=20_000)
    assert _csp_violations(console) == [], console


def test_an_administrator_creates_a_token_sees_its_key_once_and_revokes_it(page, live_server, org):
    from rest_framework.test import APIClient

    from taxservice.signin.models import ApiToken

    console = _watch_console(page)
    base = live_server.url
    sign_in(page, base, "admin")
    page.click("nav.mainnav >> text=接口令牌")
    page.wait_for_url(re.compile(r"/api-tokens/$"))
    page.select_option("#id_owner", str(org.integrator.pk))
    page.fill("#id_name", "征纳互动平台接口")
    page.select_option("#id_scope", "write")
    page.fill("#id_days", "30")
    page.click("#token-new button[type=submit]")
    key = page.inner_text("#token-key").strip()
    assert len(key) == 40
    shot(page, "90-api-token-created")

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get("/api/v1/me/").status_code == 200

    page.goto(base + "/api-tokens/")
    assert key not in page.content()
    row = page.locator("#token-list tbody tr").first
    assert key[:8] in row.inner_text() and "启用" in row.inner_text()
    row.locator("input[name=reason]").fill("接口更换")
    row.locator("button[type=submit]").click()
    page.wait_for_selector(".messages")
    assert "已吊销" in page.inner_text(".messages")
    assert "接口更换" in page.inner_text("#token-list")
    shot(page, "91-api-token-revoked")
    assert ApiToken.objects.get().revoked_at is not None
    assert client.get("/api/v1/me/").status_code == 401
    assert _csp_violations(console) == [], console


def test_five_wrong_passwords_lock_the_sign_in(page, live_server, org):
    base = live_server.url
    page.goto(base + "/login/")
    for _ in range(5):
        page.fill("input[name=username]", "clerk")
        page.fill("input[name=password]", "wrong-password")
        page.click("form[action$='/login/'] button[type=submit]")
        page.wait_for_load_state()
    assert "锁定" in page.inner_text(".form-errors")
    page.fill("input[name=username]", "clerk")
    page.fill("input[name=password]", "pass12345")
    page.click("form[action$='/login/'] button[type=submit]")
    page.wait_for_load_state()
    assert re.search(r"/login/$", page.url)
    assert "锁定" in page.inner_text(".form-errors")
    shot(page, "92-sign-in-locked")
