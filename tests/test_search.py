"""Taxpayer and item search: one selector each, so every page and the API find the same."""

from __future__ import annotations

import pytest
from django.urls import reverse

from taxservice.catalogue.selectors import item_search
from taxservice.taxpayers.selectors import taxpayer_search
from tests.factories import ItemFactory, TaxpayerFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def catalogue(db):
    ItemFactory(code="ZQ101", name="甲类测试登记")
    ItemFactory(code="ZQ102", name="乙类测试登记")
    ItemFactory(code="ZR201", name="ZQ101号文件的补正")  # the name mentions another item's code
    ItemFactory(code="ZQ199", name="已停用的测试事项", active=False)


def _picker_codes(client, query):
    response = client.get(reverse("frontdesk:item_picker"), {"q": query}, **HTMX)
    return sorted(item.code for group in response.context["groups"] for item in group["items"])


def _api_item_codes(client, query):
    body = client.get("/api/v1/catalogue/items/", {"q": query, "page_size": 100}).json()
    return sorted(row["code"] for row in body["results"])


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("zq1", ["ZQ101", "ZQ102", "ZR201"]),  # code prefix in any case (and ZR201's name)
        ("102", []),  # not anywhere in the code: a prefix
        ("ZQ102", ["ZQ102"]),
        (" 类测试 ", ["ZQ101", "ZQ102"]),  # part of the name, spaces ignored
        ("ZQ199", []),  # inactive items are not found
    ],
)
def test_the_item_picker_and_the_api_find_the_same_items(client, api, org, catalogue, query, expected):
    client.force_login(org.clerk.user)
    assert sorted(item_search(query=query).values_list("code", flat=True)) == expected
    assert _picker_codes(client, query) == expected
    assert _api_item_codes(api(org.clerk), query) == expected


@pytest.mark.parametrize(
    "query", ["913301000000000", "91330100000000002", "有限公司", "测试企业1", "  测试  ", "nobody"]
)
def test_the_consultation_the_case_list_and_the_api_find_the_same_taxpayers(client, api, org, open_case, query):
    for _ in range(3):
        TaxpayerFactory(competent_branch=org.source)
    open_case("assisted")  # the case list lists taxpayers with a case
    client.force_login(org.coordinator.user)
    expected = list(taxpayer_search(query=query).values_list("credit_code", flat=True))
    api_codes = [row["credit_code"] for row in api(org.clerk).get("/api/v1/taxpayers/", {"q": query}).json()["results"]]
    assert api_codes == expected
    client.force_login(org.clerk.user)
    consult = client.get(reverse("frontdesk:consult"), {"q": query}).context["page"]
    assert [t.credit_code for t in consult.object_list] == expected
    client.force_login(org.admin.user)
    listed = client.get(reverse("case_list"), {"q": query}).context["page"].object_list
    assert {case.taxpayer.credit_code for case in listed} <= set(expected)
    assert {case.taxpayer.credit_code for case in listed} == {
        code for code in expected if code in {c.taxpayer.credit_code for c in _all_cases()}
    }


def _all_cases():
    from taxservice.workflow.cases.models import Case

    return Case.objects.select_related("taxpayer")
