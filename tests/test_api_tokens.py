"""The integrators' API tokens (issue #15, finding 8): hashed at rest, shown once, scoped,
expiring, revocable, with their last use; managed by administrators on /api-tokens/."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.contrib.admin.sites import site as admin_site
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from taxservice.errors import ActionForbidden, InvalidInput
from taxservice.signin.models import ApiToken, ApiTokenEvent, key_hash
from taxservice.signin.services import token_create, token_revoke


def _client(key: str, keyword: str = "Bearer") -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{keyword} {key}")
    return client


def test_a_token_is_stored_as_a_hash_only(org):
    created = token_create(actor=org.admin, owner=org.integrator, name="platform", scope="write")
    row = ApiToken.objects.values().get(pk=created.token.pk)
    assert created.key not in [str(value) for value in row.values()]
    assert row["key_hash"] == key_hash(created.key) and len(row["key_hash"]) == 64
    assert row["prefix"] == created.key[:8]
    assert len(created.key) >= 40
    assert row["expires_at"] - row["created_at"] == dt.timedelta(days=90)


@pytest.mark.parametrize("keyword", ["Bearer", "Token"])
def test_both_header_keywords_authenticate(org, keyword):
    key = token_create(actor=None, owner=org.integrator, name="platform", scope="read").key
    answer = _client(key, keyword).get("/api/v1/me/")
    assert answer.status_code == 200
    assert answer.json()["username"] == org.integrator.user.username


def test_an_unknown_key_is_401(db):
    answer = _client("not-a-key-of-ours").get("/api/v1/me/")
    assert answer.status_code == 401
    assert answer.json()["code"] == "not_authenticated"
    assert answer["WWW-Authenticate"].startswith("Bearer")


def test_an_expired_token_is_401(org):
    key = token_create(actor=None, owner=org.integrator, name="platform", scope="read", days=1).key
    assert _client(key).get("/api/v1/me/").status_code == 200
    with time_machine.travel(timezone.now() + dt.timedelta(days=1, minutes=1)):
        answer = _client(key).get("/api/v1/me/")
    assert answer.status_code == 401
    assert "expired" in answer.json()["detail"] or "过期" in answer.json()["detail"]


def test_a_revoked_token_is_401_and_the_revocation_is_audited(org):
    created = token_create(actor=org.admin, owner=org.integrator, name="platform", scope="write")
    token_revoke(actor=org.admin, token_id=created.token.pk, reason="the platform was replaced")
    assert _client(created.key).get("/api/v1/me/").status_code == 401
    events = list(ApiTokenEvent.objects.filter(token=created.token).values_list("event", "actor", "reason"))
    assert events == [
        ("created", org.admin.user.pk, ""),
        ("revoked", org.admin.user.pk, "the platform was replaced"),
    ]


def test_revoking_needs_a_reason_and_an_administrator(org):
    created = token_create(actor=None, owner=org.integrator, name="platform", scope="write")
    with pytest.raises(InvalidInput):
        token_revoke(actor=org.admin, token_id=created.token.pk, reason=" ")
    with pytest.raises(ActionForbidden):
        token_revoke(actor=org.coordinator, token_id=created.token.pk, reason="because")
    with pytest.raises(ActionForbidden):
        token_create(actor=org.coordinator, owner=org.coordinator, name="mine", scope="write")
    assert ApiToken.objects.get().revoked_at is None


def test_a_deactivated_account_s_token_is_401(org):
    key = token_create(actor=None, owner=org.integrator, name="platform", scope="read").key
    org.integrator.user.is_active = False
    org.integrator.user.save()
    assert _client(key).get("/api/v1/me/").status_code == 401


def test_a_read_token_cannot_write(org):
    key = token_create(actor=None, owner=org.member, name="reports", scope="read").key
    assert _client(key).get("/api/v1/notifications/").status_code == 200
    answer = _client(key).post("/api/v1/notifications/read-all/")
    assert answer.status_code == 403
    assert answer.json()["code"] == "token_scope"
    write = token_create(actor=None, owner=org.member, name="app", scope="write").key
    assert _client(write).post("/api/v1/notifications/read-all/").status_code == 200


def test_last_use_is_written_at_most_once_a_minute(org, django_assert_num_queries):
    created = token_create(actor=None, owner=org.integrator, name="platform", scope="read")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _client(created.key).get("/api/v1/me/")
    created.token.refresh_from_db()
    assert created.token.last_used_at == start
    with time_machine.travel(start + dt.timedelta(seconds=30), tick=False):
        _client(created.key).get("/api/v1/me/")
    created.token.refresh_from_db()
    assert created.token.last_used_at == start  # not again within the minute
    with time_machine.travel(start + dt.timedelta(seconds=61), tick=False):
        _client(created.key).get("/api/v1/me/")
    created.token.refresh_from_db()
    assert created.token.last_used_at == start + dt.timedelta(seconds=61)


def test_the_old_drf_tokens_are_gone(db):
    from django.apps import apps

    assert not apps.is_installed("rest_framework.authtoken")


def test_the_admin_lists_no_key(org, client, django_user_model):
    # Not pytest-django's admin_client: the org's staff member "admin" is no superuser.
    admin_client = client
    admin_client.force_login(django_user_model.objects.create_superuser("root", "root@tax.example", "x"))
    created = token_create(actor=None, owner=org.integrator, name="platform", scope="read")
    page = admin_client.get(reverse("admin:signin_apitoken_changelist")).content.decode()
    assert created.token.prefix in page
    assert created.key not in page and created.token.key_hash not in page
    detail = admin_client.get(reverse("admin:signin_apitoken_change", args=[created.token.pk])).content.decode()
    assert created.token.key_hash not in detail
    assert not admin_site._registry[ApiToken].has_add_permission(None)


# --- the page -------------------------------------------------------------------------------


def test_the_tokens_page_is_for_administrators_only(client, org):
    client.force_login(org.coordinator.user)
    assert client.get(reverse("api_tokens")).status_code == 403
    client.force_login(org.admin.user)
    assert client.get(reverse("api_tokens")).status_code == 200


def test_an_administrator_creates_a_token_and_sees_its_key_once(client, org):
    client.force_login(org.admin.user)
    answer = client.post(
        reverse("api_tokens"), {"owner": org.integrator.pk, "name": "征纳互动平台", "scope": "write", "days": 30}
    )
    assert answer.status_code == 201
    assert answer["Cache-Control"] == "no-store"
    token = ApiToken.objects.get()
    page = answer.content.decode()
    key = page.split('id="token-key">')[1].split("<")[0]
    assert key_hash(key) == token.key_hash
    assert (token.user, token.scope, token.created_by) == (org.integrator.user, "write", org.admin.user)
    assert token.expires_at - token.created_at == dt.timedelta(days=30)
    assert _client(key).get("/api/v1/me/").status_code == 200
    listing = client.get(reverse("api_tokens")).content.decode()
    assert token.prefix in listing and key not in listing


def test_an_administrator_revokes_a_token_with_a_reason(client, org):
    created = token_create(actor=None, owner=org.integrator, name="platform", scope="read")
    client.force_login(org.admin.user)
    client.post(reverse("api_token_revoke", args=[created.token.pk]), {"reason": ""})
    assert ApiToken.objects.get().revoked_at is None
    client.post(reverse("api_token_revoke", args=[created.token.pk]), {"reason": "密钥泄露"})
    assert ApiToken.objects.get().revoked_at is not None
    page = client.get(reverse("api_tokens")).content.decode()
    assert "密钥泄露" in page


def test_the_command_prints_a_working_key(org):
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_token", org.integrator.user.username, "--scope", "write", stdout=out, stderr=err)
    key = out.getvalue().strip()
    assert ApiToken.objects.get().key_hash == key_hash(key)
    assert _client(key).get("/api/v1/me/").status_code == 200


def test_the_command_replaces_the_previous_token_of_the_same_name(org):
    """bin/run prints a fresh integrator token at every start and revokes the one before."""
    username = org.integrator.user.username
    first = io.StringIO()
    call_command(
        "create_api_token", username, "--name", "demo (bin/run)", "--replace", stdout=first, stderr=io.StringIO()
    )
    second = io.StringIO()
    call_command(
        "create_api_token", username, "--name", "demo (bin/run)", "--replace", stdout=second, stderr=io.StringIO()
    )
    assert _client(first.getvalue().strip()).get("/api/v1/me/").status_code == 401
    assert _client(second.getvalue().strip()).get("/api/v1/me/").status_code == 200
    assert ApiTokenEvent.objects.filter(event="revoked").count() == 1
