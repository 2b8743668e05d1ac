"""REST API v1: every endpoint, its permissions and its refusals."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from taxservice.taxpayers.models import Taxpayer
from taxservice.workflow.cases.models import Case, Task, TaskTransition
from tests.factories import UserFactory, credit_code

pytestmark = pytest.mark.usefixtures("open_task_counts_checked")


@pytest.fixture
def case_payload(taxpayer, items):
    return {
        "taxpayer": taxpayer.credit_code,
        "channel": "hall_window",
        "hall": "H01",
        "notes": "咨询发票与跨区域报告",
        "items": [{"item": "I001", "note": ""}, {"item": "A001", "note": "急"}],
    }


def post_case(api, org, payload):
    return api(org.clerk).post("/api/v1/cases/", payload, format="json")


class TestAuthentication:
    def test_anonymous_callers_get_401_with_a_code(self, db):
        response = APIClient().get("/api/v1/tasks/")
        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"

    def test_a_user_without_a_staff_record_gets_403(self, db):
        client = APIClient()
        client.force_authenticate(UserFactory())
        response = client.get("/api/v1/tasks/")
        assert response.status_code == 403
        assert "staff record" in response.json()["detail"]

    def test_the_schema_and_docs_need_login_and_are_served(self, api, org):
        assert APIClient().get("/api/schema/").status_code == 401
        schema = api(org.clerk).get("/api/schema/")
        assert schema.status_code == 200
        assert b"/api/v1/tasks/{id}/transitions/" in schema.content
        assert api(org.clerk).get("/api/docs/").status_code == 200


class TestMe:
    def test_it_returns_the_callers_record(self, api, org):
        body = api(org.member).get("/api/v1/me/").json()
        assert body["username"] == "member"
        assert body["roles"] == ["team_member"]
        assert body["home_branch"] == "S01"
        assert [team["code"] for team in body["teams"]] == ["ONLINE"]


class TestTaxpayers:
    def test_list_search_and_retrieve(self, api, org, taxpayer):
        client = api(org.clerk)
        listed = client.get("/api/v1/taxpayers/", {"q": taxpayer.name[:4]}).json()
        assert listed["count"] == 1
        found = listed["results"][0]
        # The fields every client reads (grids and the classification add their own: test_grids.py, …).
        assert {
            name: found[name] for name in ("credit_code", "name", "competent_branch", "classification", "grade")
        } == {
            "credit_code": taxpayer.credit_code,
            "name": taxpayer.name,
            "competent_branch": "SRC1",
            "classification": taxpayer.classification,
            "grade": taxpayer.grade,
        }
        assert found["grid"] is None
        assert client.get(f"/api/v1/taxpayers/{taxpayer.credit_code}/").json()["name"] == taxpayer.name
        assert client.get(f"/api/v1/taxpayers/{credit_code(777)}/").status_code == 404

    def test_register(self, api, org):
        response = api(org.clerk).post(
            "/api/v1/taxpayers/",
            {"credit_code": credit_code(42), "name": "杭州某某科技有限公司", "competent_branch": "SRC2", "grade": "A"},
            format="json",
        )
        assert response.status_code == 201, response.json()
        assert Taxpayer.objects.get(credit_code=credit_code(42)).competent_branch == org.source2

    @pytest.mark.parametrize(
        "code",
        [
            credit_code(42)[:-1] + ("0" if credit_code(42)[-1] != "0" else "1"),
            credit_code(42) + "1",
            credit_code(42)[:-1].lower() + "a",
            "９" + credit_code(42)[1:],
        ],
        ids=["check digit", "length", "lowercase", "full-width"],
    )
    def test_it_rejects_bad_credit_codes_with_400_and_writes_nothing(self, api, org, code):
        response = api(org.clerk).post(
            "/api/v1/taxpayers/", {"credit_code": code, "name": "x", "competent_branch": "SRC1"}, format="json"
        )
        assert response.status_code == 400
        body = response.json()
        assert body["code"] == "invalid"
        assert "credit_code" in body["fields"]
        assert body["detail"]
        assert not Taxpayer.objects.exists()

    def test_back_office_staff_may_not_register(self, api, org):
        response = api(org.back_member).post(
            "/api/v1/taxpayers/",
            {"credit_code": credit_code(42), "name": "x", "competent_branch": "SRC1"},
            format="json",
        )
        assert response.status_code == 403


class TestCatalogue:
    def test_it_lists_and_filters_items(self, api, org, items):
        client = api(org.clerk)
        body = client.get("/api/v1/catalogue/items/", {"list": "immediate"}).json()
        codes = {row["code"] for row in body["results"]}
        assert "I001" in codes
        assert all(row["list"] == "immediate" for row in body["results"])
        moved = client.get("/api/v1/catalogue/items/", {"moved_forward": "true", "tier": "middle"}).json()
        assert all(row["moved_forward"] and row["tier"] == "middle" for row in moved["results"])
        assert "M001" in {row["code"] for row in moved["results"]}
        row = client.get("/api/v1/catalogue/items/A001/").json()
        assert set(row) >= {
            "code",
            "name",
            "list",
            "tier",
            "team_kind",
            "time_limit_days",
            "moved_forward",
            "high_frequency",
            "needs_approval",
        }

    def test_a_bad_filter_value_is_400(self, api, org, items):
        assert api(org.clerk).get("/api/v1/catalogue/items/", {"list": "nonsense"}).status_code == 400


class TestCases:
    def test_it_creates_a_case_whole(self, api, org, case_payload):
        response = post_case(api, org, case_payload)
        assert response.status_code == 201, response.json()
        body = response.json()
        assert {k: body[k] for k in ("taxpayer", "channel", "hall", "cross_hall", "state")} == {
            "taxpayer": case_payload["taxpayer"],
            "channel": "hall_window",
            "hall": "H01",
            "cross_hall": False,
            "state": "open",
        }
        tasks = {task["item"]: task for task in body["tasks"]}
        assert set(tasks) == {"I001", "A001"}
        assert tasks["I001"]["available_transitions"] == ["handle_on_spot", "transfer", "cancel"]
        assert tasks["A001"]["available_transitions"] == ["transfer", "cancel"]
        for task in tasks.values():
            assert set(task) >= {"id", "item", "state", "tier", "team", "assignee", "due_at", "available_transitions"}

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"items": []}, "items"),
            ({"items": [{"item": "I001"}, {"item": "XX999"}]}, "items"),
            ({"hall": "H99"}, "hall"),
            ({"taxpayer": "not-a-code"}, "taxpayer"),
            ({"channel": "carrier_pigeon"}, "channel"),
        ],
    )
    def test_bad_input_is_400_and_writes_nothing(self, api, org, case_payload, change, field):
        response = post_case(api, org, {**case_payload, **change})
        assert response.status_code == 400
        body = response.json()
        assert body["code"] == "invalid"
        assert field in body["fields"]
        assert Case.objects.count() == 0 and Task.objects.count() == 0

    def test_retrieve_and_visibility(self, api, org, case_payload):
        case_id = post_case(api, org, case_payload).json()["id"]
        assert api(org.clerk).get(f"/api/v1/cases/{case_id}/").json()["id"] == case_id
        assert api(org.coordinator).get(f"/api/v1/cases/{case_id}/").status_code == 200
        assert api(org.back_member2).get(f"/api/v1/cases/{case_id}/").status_code == 404

    def test_back_office_staff_may_not_open_cases(self, api, org, case_payload):
        assert api(org.back_member).post("/api/v1/cases/", case_payload, format="json").status_code == 403


class TestTasks:
    @pytest.fixture
    def transferred(self, api, org, case_payload):
        body = post_case(api, org, case_payload).json()
        task_id = next(t["id"] for t in body["tasks"] if t["item"] == "A001")
        response = api(org.clerk).post(
            f"/api/v1/tasks/{task_id}/transitions/", {"transition": "transfer"}, format="json"
        )
        assert response.status_code == 200
        return task_id

    def test_list_filters_and_paginates(self, api, org, transferred):
        client = api(org.coordinator)
        body = client.get("/api/v1/tasks/", {"state": "queued", "team": "ONLINE", "item": "A001"}).json()
        assert [t["id"] for t in body["results"]] == [transferred]
        assert body["count"] == 1 and "next" in body
        assert client.get("/api/v1/tasks/", {"state": "done"}).json()["count"] == 0
        taxpayer = body["results"][0]["taxpayer"]
        assert client.get("/api/v1/tasks/", {"taxpayer": taxpayer}).json()["count"] == 2
        assert client.get("/api/v1/tasks/", {"tier": "front"}).json()["count"] == 1
        assert client.get("/api/v1/tasks/", {"state": "nonsense"}).status_code == 400

    def test_the_full_flow_through_the_api(self, api, org, transferred):
        member = api(org.member)
        url = f"/api/v1/tasks/{transferred}/transitions/"
        assert member.post(url, {"transition": "assign"}, format="json").json()["assignee"] == org.member.pk
        assert member.get("/api/v1/tasks/", {"assignee": org.member.pk}).json()["count"] == 1
        for step in ({"transition": "accept"}, {"transition": "complete", "result": "已办理"}):
            assert member.post(url, step, format="json").status_code == 200
        body = member.post(url, {"transition": "give_feedback", "result": "短信告知"}, format="json").json()
        assert body["state"] == "closed"
        history = member.get(f"/api/v1/tasks/{transferred}/").json()["history"]
        assert [row["transition"] for row in history] == [
            "receive",
            "transfer",
            "assign",
            "accept",
            "complete",
            "give_feedback",
        ]
        assert history[2]["actor_name"] == org.member.name
        assert history[-1]["details"]["result"] == "短信告知"

    def test_a_transition_not_allowed_now_is_409(self, api, org, transferred):
        response = api(org.coordinator).post(
            f"/api/v1/tasks/{transferred}/transitions/", {"transition": "approve"}, format="json"
        )
        assert response.status_code == 409
        assert response.json()["code"] == "transition_not_allowed"
        assert "detail" in response.json()

    def test_someone_else_changing_it_first_is_409(self, api, org, transferred):
        url = f"/api/v1/tasks/{transferred}/transitions/"
        api(org.member).post(url, {"transition": "assign", "expected_state": "queued"}, format="json")
        response = api(org.member2).post(url, {"transition": "assign", "expected_state": "queued"}, format="json")
        assert response.status_code == 409
        assert response.json()["code"] == "conflict"
        assert TaskTransition.objects.filter(task_id=transferred, transition="assign").count() == 1

    def test_a_forbidden_transition_is_403_and_an_unseen_task_404(self, api, org, transferred):
        url = f"/api/v1/tasks/{transferred}/transitions/"
        response = api(org.clerk).post(url, {"transition": "assign"}, format="json")
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"
        assert api(org.back_member2).post(url, {"transition": "assign"}, format="json").status_code == 404

    def test_bad_transition_input_is_400(self, api, org, transferred):
        url = f"/api/v1/tasks/{transferred}/transitions/"
        client = api(org.coordinator)
        assert client.post(url, {"transition": "fly"}, format="json").status_code == 400
        response = client.post(url, {"transition": "cancel"}, format="json")
        assert response.status_code == 400
        assert response.json()["code"] == "reason_required"
        response = client.post(url, {"transition": "assign", "assignee": org.back_member.pk}, format="json")
        assert response.status_code == 400
        assert response.json()["code"] == "not_a_member"
        assert Task.objects.get(pk=transferred).state == "queued"

    def test_a_coordinator_assigns_to_a_named_staff_member(self, api, org, transferred):
        response = api(org.coordinator).post(
            f"/api/v1/tasks/{transferred}/transitions/",
            {"transition": "assign", "assignee": org.member2.pk},
            format="json",
        )
        assert response.status_code == 200
        assert (response.json()["state"], response.json()["assignee"]) == ("assigned", org.member2.pk)

    def test_the_task_list_costs_a_fixed_number_of_queries(self, api, org, case_payload, django_assert_max_num_queries):
        for _ in range(5):
            post_case(api, org, case_payload)
        client = api(org.coordinator)
        client.get("/api/v1/me/")  # a token's first use is written once (then at most once a minute)
        with django_assert_max_num_queries(8):
            assert client.get("/api/v1/tasks/").json()["count"] == 10


def test_the_openapi_schema_validates_without_warnings(db, tmp_path):
    from django.core.management import call_command

    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    assert "/api/v1/cases/" in target.read_text()


def test_the_api_docs_use_no_cdn(api, org):
    page = api(org.clerk).get("/api/docs/").content.decode()
    assert "swagger-ui" in page
    assert "cdn." not in page and "https://" not in page.replace("https://swagger.io", "")
