"""The API's docs and the Django admin for the people who need them (issue #13, defect 12):
a browser that is not signed in is sent to the login page, administrators find the admin
from the top bar, and the admin speaks Chinese."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import translation

pytestmark = pytest.mark.django_db

BROWSER = {"HTTP_ACCEPT": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def test_the_api_docs_send_a_signed_out_browser_to_the_login_page_and_back(client, org):
    response = client.get("/api/docs/", **BROWSER)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next=/api/docs/"
    client.force_login(org.clerk.user)
    response = client.get("/api/docs/", **BROWSER)
    assert response.status_code == 200
    assert "swagger-ui" in response.content.decode()


def test_the_schema_still_answers_an_api_client_that_is_not_signed_in_with_401_json(client):
    # Guards the other half of the change: only the docs page redirects, not the schema.
    assert client.get("/api/docs/", **BROWSER).status_code == 302
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    assert "detail" in response.json()


@pytest.fixture
def admin_user(org):
    # The demo's administrators are Django staff and superusers (taxservice/demo/organisation.py).
    user = org.admin.user
    user.is_staff = user.is_superuser = True
    user.save(update_fields=["is_staff", "is_superuser"])
    return user


def test_the_top_bar_links_to_the_admin_for_an_administrator_and_not_for_a_clerk(client, org):
    client.force_login(org.admin.user)  # the admin role alone
    page = client.get(reverse("home")).content.decode()
    assert f'href="{reverse("admin:index")}">系统管理</a>' in page
    client.force_login(org.clerk.user)
    page = client.get(reverse("home")).content.decode()
    assert reverse("admin:index") not in page
    assert "系统管理" not in page


def test_the_top_bar_links_to_the_admin_for_a_django_staff_user(client, org):
    org.coordinator.user.is_staff = True
    org.coordinator.user.save(update_fields=["is_staff"])
    client.force_login(org.coordinator.user)
    assert f'href="{reverse("admin:index")}"' in client.get(reverse("home")).content.decode()


def test_every_app_of_the_project_has_a_translated_name():
    project = [config for config in apps.get_app_configs() if "site-packages" not in config.path]
    assert len(project) >= 12
    with translation.override("zh-hans"):
        untranslated = [config.label for config in project if str(config.verbose_name).isascii()]
    assert untranslated == []


def test_the_admin_index_shows_chinese_section_names(client, admin_user):
    client.force_login(admin_user)
    response = client.get(reverse("admin:index"))
    page = response.content.decode()
    assert response.status_code == 200
    # The apps with models in the admin (routing's are edited on the hub's pages).
    for name in ("组织机构", "纳税人", "事项清单", "案件与任务"):
        assert f">{name}</a>" in page, name
    for english in ("Org", "Taxpayers", "Catalogue", "Cases", "Auth Token", "Authentication and Authorization"):
        assert f">{english}</a>" not in page, english
    assert "税务服务协同平台 · 系统管理" in page  # the site header and title
