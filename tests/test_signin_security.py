"""Sign-in security (issue #15, finding 8): the lockout after repeated failures, the sign-in
trail, sessions that end, and API-only accounts kept out of the pages."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse

from taxservice.signin.models import SignInEvent

PASSWORD = "a-long-test-password-42"


@pytest.fixture
def member(org):
    user = org.member.user
    user.set_password(PASSWORD)
    user.save()
    return org.member


def _sign_in(client, username: str, password: str, *, ip: str = "10.0.0.1"):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_twenty_five_wrong_passwords_then_the_right_one_is_refused(client, member):
    username = member.user.username
    for _ in range(25):
        answer = _sign_in(client, username, "wrong")
        assert answer.status_code in (200, 429)
    answer = _sign_in(client, username, PASSWORD)
    assert answer.status_code == 429
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("home")).status_code == 302  # still signed out


def test_the_lock_comes_at_the_fifth_failure_with_a_translated_message_not_an_error_page(client, member):
    username = member.user.username
    for _ in range(4):
        assert _sign_in(client, username, "wrong").status_code == 200  # the form again, with its error
    locked = _sign_in(client, username, "wrong", ip="10.0.0.1")
    assert locked.status_code == 429
    page = locked.content.decode()
    assert "锁定" in page and "15" in page  # Chinese by default: locked for 15 minutes
    assert 'name="username"' in page  # the sign-in page itself, not a bare error
    client.cookies["django_language"] = "en"
    english = _sign_in(client, username, PASSWORD).content.decode()
    assert "Too many failed sign-ins" in english


def test_the_account_is_locked_from_another_address_too(client, member):
    username = member.user.username
    for number in range(5):
        _sign_in(client, username, "wrong", ip=f"10.0.1.{number}")
    assert _sign_in(client, username, PASSWORD, ip="10.9.9.9").status_code == 429


def test_the_address_is_locked_for_other_accounts_too(client, member, org):
    for number in range(5):
        _sign_in(client, f"nobody{number}", "wrong", ip="10.0.2.1")
    assert _sign_in(client, member.user.username, PASSWORD, ip="10.0.2.1").status_code == 429
    assert _sign_in(client, member.user.username, PASSWORD, ip="10.0.2.2").status_code == 302


def test_fewer_failures_than_the_limit_do_not_lock(client, member):
    for _ in range(4):
        _sign_in(client, member.user.username, "wrong")
    assert _sign_in(client, member.user.username, PASSWORD).status_code == 302


def test_the_lockout_settings_come_from_the_environment():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 15 * 60
    assert settings.AXES_LOCKOUT_PARAMETERS == ["username", "ip_address"]  # each on its own


def test_sign_in_sign_out_and_failures_are_in_the_trail(client, member):
    username = member.user.username
    _sign_in(client, username, "wrong", ip="10.0.3.1")
    assert _sign_in(client, username, PASSWORD, ip="10.0.3.1").status_code == 302
    client.post(reverse("logout"), REMOTE_ADDR="10.0.3.1")
    for _ in range(5):
        _sign_in(client, username, "wrong", ip="10.0.3.1")
    rows = list(SignInEvent.objects.order_by("id").values_list("event", "username", "ip", "user_id"))
    assert rows[:3] == [
        ("failed", username, "10.0.3.1", None),
        ("signed_in", username, "10.0.3.1", member.user.pk),
        ("signed_out", username, "10.0.3.1", member.user.pk),
    ]
    assert [row[0] for row in rows[3:]].count("locked_out") >= 1
    assert rows[-1][0] == "locked_out"


def test_the_trail_is_append_only(client, member):
    _sign_in(client, member.user.username, "wrong")
    event = SignInEvent.objects.get()
    event.event = "signed_in"
    with pytest.raises(Exception, match="append-only"):
        event.save()


def test_web_sessions_end_at_browser_close_or_after_a_working_day(client, member):
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True
    assert settings.SESSION_COOKIE_AGE == 10 * 3600
    answer = _sign_in(client, member.user.username, PASSWORD)
    cookie = answer.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["expires"] == "" and cookie["max-age"] == ""  # a browser-session cookie
    assert client.session.get_expiry_age() == 10 * 3600


def test_an_api_only_account_cannot_sign_in_to_the_pages(client, org):
    user = org.integrator.user
    user.set_password(PASSWORD)
    user.save()
    answer = _sign_in(client, user.username, PASSWORD)
    assert answer.status_code == 200
    assert "_auth_user_id" not in client.session
    assert not SignInEvent.objects.filter(event="signed_in").exists()
