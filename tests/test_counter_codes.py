"""Credit codes typed at the counter (issue #13, defect 11): lower case, full width and
spaces are put into the canonical form in the browser; the API stays strict."""

from __future__ import annotations

import pytest
from django.urls import reverse
from stdnum.cn import uscc

from taxservice.taxpayers.models import Taxpayer
from taxservice.taxpayers.selectors import taxpayer_search
from taxservice.taxpayers.validators import normalise_credit_code
from tests.factories import TaxpayerFactory

pytestmark = pytest.mark.django_db

# A valid code with letters in it, as many business licences have.
LETTERED = "91330100MA27XQ2B5" + uscc.calc_check_digit("91330100MA27XQ2B5")


def _full_width(text: str) -> str:
    return "".join(chr(ord(char) + 0xFEE0) if char.isascii() and char.isalnum() else char for char in text)


TYPED = {
    "lower-case": LETTERED.lower(),
    "full-width": _full_width(LETTERED),
    "full-width-lower-case": _full_width(LETTERED.lower()),
    "spaces": f"  {LETTERED[:6]} {LETTERED[6:12]}\u3000{LETTERED[12:]}\u3000",
    "mixed": f"\u3000{_full_width(LETTERED[:8])} {LETTERED[8:].lower()} ",
}


@pytest.mark.parametrize("typed", TYPED.values(), ids=TYPED.keys())
def test_normalise_credit_code_gives_the_canonical_form(typed):
    assert normalise_credit_code(typed) == LETTERED


def test_normalise_credit_code_leaves_other_characters_for_the_validator_to_name():
    assert normalise_credit_code("9133-0100（MA）") == "9133-0100（MA）"


@pytest.fixture
def clerk_client(client, org):
    client.force_login(org.clerk.user)
    return client


def _register(client, org, code):
    data = {
        "credit_code": code,
        "name": "杭州小写代码科技有限公司",
        "competent_branch": org.source.code,
        "classification": "small_scale",
        "grade": "B",
    }
    return client.post(reverse("frontdesk:consult"), data)


@pytest.mark.parametrize("typed", TYPED.values(), ids=TYPED.keys())
def test_the_counter_registers_a_code_typed_in_lower_case_full_width_or_with_spaces(clerk_client, org, typed):
    response = _register(clerk_client, org, typed)
    assert response.status_code == 302
    assert response["Location"] == reverse("frontdesk:open_case", args=[LETTERED])
    assert list(Taxpayer.objects.filter(name="杭州小写代码科技有限公司").values_list("credit_code", flat=True)) == [
        LETTERED
    ]


def test_the_counter_still_refuses_a_wrong_code_once_normalised_and_keeps_what_was_typed(clerk_client, org):
    wrong_check_digit = LETTERED[:-1] + ("0" if LETTERED[-1] != "0" else "1")
    typed = wrong_check_digit.lower()
    response = _register(clerk_client, org, typed)
    page = response.content.decode()
    assert response.status_code == 400
    assert "校验码错误" in page
    assert f'value="{typed}"' in page
    assert not Taxpayer.objects.filter(name="杭州小写代码科技有限公司").exists()


@pytest.mark.parametrize("typed", TYPED.values(), ids=TYPED.keys())
def test_the_counter_finds_a_taxpayer_by_a_code_typed_in_lower_case_full_width_or_with_spaces(clerk_client, org, typed):
    taxpayer = TaxpayerFactory(credit_code=LETTERED, competent_branch=org.source)
    page = clerk_client.get(reverse("frontdesk:consult"), {"q": typed}).content.decode()
    assert reverse("frontdesk:open_case", args=[LETTERED]) in page
    assert taxpayer.name in page


def test_taxpayer_search_normalises_a_code_prefix_but_keeps_a_name_as_typed(org):
    lettered = TaxpayerFactory(credit_code=LETTERED, name="杭州 甲乙 科技有限公司", competent_branch=org.source)
    assert list(taxpayer_search(query="９１３３ ０１００ma27")) == [lettered]
    assert list(taxpayer_search(query="甲乙 科技")) == [lettered]
    assert list(taxpayer_search(query="甲乙科技")) == []


def test_the_api_stays_strict_about_a_lower_case_code(api, org):
    response = api(org.clerk).post(
        "/api/v1/taxpayers/",
        {"credit_code": LETTERED.lower(), "name": "杭州小写代码科技有限公司", "competent_branch": "SRC1"},
        format="json",
    )
    assert response.status_code == 400
    assert "credit_code" in str(response.json())
    assert not Taxpayer.objects.filter(name="杭州小写代码科技有限公司").exists()


def test_the_api_stays_strict_about_a_full_width_or_spaced_code(api, org):
    for code in (_full_width(LETTERED), f" {LETTERED}", LETTERED[:9] + " " + LETTERED[9:]):
        response = api(org.clerk).post(
            "/api/v1/taxpayers/",
            {"credit_code": code, "name": "杭州小写代码科技有限公司", "competent_branch": "SRC1"},
            format="json",
        )
        assert response.status_code == 400, code
    assert not Taxpayer.objects.filter(name="杭州小写代码科技有限公司").exists()
