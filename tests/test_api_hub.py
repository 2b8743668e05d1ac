"""API v1 for the hub: intake, staff, routing rules, the hub queue, dispatch records."""

from __future__ import annotations

import pytest

from taxservice.workflow.cases.models import Task
from taxservice.workflow.routing.models import HubAlert, RoutingRule

pytestmark = pytest.mark.usefixtures("open_task_counts_checked")


def intake(api, org, taxpayer, item="A001", source="risk"):
    return api(org.integrator).post(
        "/api/v1/tasks/",
        {"source": source, "taxpayer": taxpayer.credit_code, "item": item, "notes": "风险任务"},
        format="json",
    )


class TestIntake:
    def test_a_new_task_is_201_and_a_duplicate_is_merged_with_200(self, api, org, items, taxpayer):
        first = intake(api, org, taxpayer)
        assert first.status_code == 201, first.json()
        body = first.json()
        assert (body["source"], body["state"], body["team"], body["merged"]) == ("risk", "queued", "ONLINE", False)
        second = intake(api, org, taxpayer, source="business")
        assert second.status_code == 200
        assert (second.json()["id"], second.json()["merged"]) == (body["id"], True)
        assert Task.objects.count() == 1

    @pytest.mark.parametrize(("change", "field"), [({"source": "front_desk"}, "source"), ({"item": "ZZZ"}, "item")])
    def test_bad_intake_is_400_and_writes_nothing(self, api, org, items, taxpayer, change, field):
        payload = {"source": "risk", "taxpayer": taxpayer.credit_code, "item": "A001", **change}
        response = api(org.integrator).post("/api/v1/tasks/", payload, format="json")
        assert response.status_code == 400
        assert field in response.json()["fields"]
        assert not Task.objects.exists()

    def test_back_office_staff_may_not_push(self, api, org, items, taxpayer):
        response = api(org.back_member).post(
            "/api/v1/tasks/", {"source": "risk", "taxpayer": taxpayer.credit_code, "item": "A001"}, format="json"
        )
        assert response.status_code == 403

    def test_front_desk_tasks_show_their_source(self, api, org, open_case):
        task = open_case("assisted").tasks.get()
        assert api(org.clerk).get(f"/api/v1/tasks/{task.pk}/").json()["source"] == "front_desk"


class TestDispatch:
    def test_dispatch_records_the_decision_on_the_task(self, api, org, items, taxpayer):
        task_id = intake(api, org, taxpayer).json()["id"]
        response = api(org.coordinator).post(f"/api/v1/tasks/{task_id}/dispatch/")
        assert response.status_code == 200, response.json()
        decision = response.json()
        assert decision["outcome"] == "assigned" and decision["chosen"] in {org.member.pk, org.member2.pk}
        detail = api(org.coordinator).get(f"/api/v1/tasks/{task_id}/").json()
        assert detail["assignee"] == decision["chosen"]
        record = detail["dispatch"][0]
        assert set(record) >= {"candidates", "removed", "chooser", "seed", "chosen", "eligible"}

    def test_dispatch_refusals(self, api, org, items, taxpayer):
        task_id = intake(api, org, taxpayer).json()["id"]
        assert api(org.member).post(f"/api/v1/tasks/{task_id}/dispatch/").status_code == 403
        api(org.coordinator).post(f"/api/v1/tasks/{task_id}/dispatch/")
        again = api(org.coordinator).post(f"/api/v1/tasks/{task_id}/dispatch/")
        assert again.status_code == 409


class TestStaff:
    def test_it_lists_staff_with_load(self, api, org, items, taxpayer):
        task_id = intake(api, org, taxpayer).json()["id"]
        api(org.member).post(f"/api/v1/tasks/{task_id}/transitions/", {"transition": "assign"}, format="json")
        rows = api(org.coordinator).get("/api/v1/staff/", {"team": "ONLINE"}).json()["results"]
        member = next(row for row in rows if row["id"] == org.member.pk)
        assert member == {
            "id": org.member.pk,
            "name": org.member.name,
            "home_branch": "S01",
            "teams": ["ONLINE"],
            "on_duty": True,
            "open_tasks": 1,
            "capacity": org.member.capacity,
        }


class TestRules:
    def test_get_and_patch_with_a_reason(self, api, org):
        rules = api(org.coordinator).get("/api/v1/routing/rules/").json()
        assert [rule["name"] for rule in rules][:1] == ["事项前移·属地优先"]
        rule_id = rules[-1]["id"]
        response = api(org.coordinator).patch(
            f"/api/v1/routing/rules/{rule_id}/",
            {"reason": "改为轮派", "changes": {"chooser": "round_robin"}},
            format="json",
        )
        assert response.status_code == 200, response.json()
        assert (response.json()["chooser"], response.json()["version"]) == ("round_robin", 2)

    def test_bad_patches(self, api, org):
        rule = RoutingRule.objects.first()
        url = f"/api/v1/routing/rules/{rule.pk}/"
        assert api(org.coordinator).patch(url, {"changes": {"chooser": "random"}}, format="json").status_code == 400
        assert (
            api(org.coordinator).patch(url, {"reason": "x", "changes": {"chooser": "dice"}}, format="json").status_code
            == 400
        )
        assert api(org.member).patch(url, {"reason": "x", "changes": {"priority": 1}}, format="json").status_code == 403
        rule.refresh_from_db()
        assert rule.version == 1


class TestHubQueue:
    def test_alerts_first_and_filters(self, api, org, items, taxpayer):
        normal = intake(api, org, taxpayer).json()["id"]
        flagged = intake(api, org, taxpayer, item="I001", source="grid").json()["id"]
        assert HubAlert.objects.filter(task_id=flagged).exists()
        body = api(org.coordinator).get("/api/v1/hub/queue/").json()
        assert [row["id"] for row in body["results"]] == [flagged, normal]
        assert [
            r["id"] for r in api(org.coordinator).get("/api/v1/hub/queue/", {"source": "risk"}).json()["results"]
        ] == [normal]
        assert [
            r["id"] for r in api(org.coordinator).get("/api/v1/hub/queue/", {"alerts": "true"}).json()["results"]
        ] == [flagged]
        assert api(org.coordinator).get("/api/v1/hub/queue/", {"older_than_hours": "x"}).status_code == 400

    def test_facet_counts_match_the_lists_behind_them(self, api, org, items, taxpayer):
        normal = intake(api, org, taxpayer).json()["id"]
        flagged = intake(api, org, taxpayer, item="I001", source="grid").json()["id"]
        client = api(org.coordinator)
        body = client.get("/api/v1/hub/queue/").json()
        facets = body["facets"]
        assert set(facets) == {"state", "team", "source", "age", "due", "alerts"}
        assert {f["value"]: f["count"] for f in facets["state"]}["queued"] == body["count"] == 2
        assert facets["alerts"] == [{"value": "true", "label": facets["alerts"][0]["label"], "count": 1}]
        for name, values in facets.items():
            for facet in values:
                if facet["count"] == 0:
                    continue
                listed = client.get("/api/v1/hub/queue/", {name: facet["value"], "facets": "false"}).json()
                assert listed["count"] == facet["count"], (name, facet)
                assert "facets" not in listed
        by_source = client.get("/api/v1/hub/queue/", {"source": "grid"}).json()
        assert [row["id"] for row in by_source["results"]] == [flagged]
        # A facet counts across its own dimension: the source facet still shows both lines.
        assert {f["value"]: f["count"] for f in by_source["facets"]["source"]} == {"risk": 1, "grid": 1}
        assert normal != flagged

    @pytest.mark.parametrize(
        "params",
        [
            {"state": "closed"},
            {"age": "old"},
            {"due": "soon"},
            {"alerts": "maybe"},
            {"older_than_hours": "-1"},
            {"due_before": "tomorrow"},
            {"source": "fax"},
            {"tier": "moon"},
        ],
    )
    def test_bad_filters_are_400_with_the_reason(self, api, org, params):
        response = api(org.coordinator).get("/api/v1/hub/queue/", params)
        assert response.status_code == 400
        assert next(iter(params)) in response.json()["detail"]


class TestUploads:
    def test_upload_then_read_the_batch(self, api, org, items, taxpayer, django_capture_on_commit_callbacks):
        from django.core.files.uploadedfile import SimpleUploadedFile

        content = f"source,taxpayer,item,notes\nrisk,{taxpayer.credit_code},A001,x\n".encode()
        with django_capture_on_commit_callbacks(execute=True):
            response = api(org.coordinator).post(
                "/api/v1/hub/uploads/", {"file": SimpleUploadedFile("t.csv", content)}, format="multipart"
            )
        assert response.status_code == 202, response.json()
        batch = api(org.coordinator).get(f"/api/v1/hub/uploads/{response.json()['id']}/").json()
        assert (batch["state"], batch["created_count"], batch["percent"]) == ("done", 1, 100)
        assert api(org.member).get(f"/api/v1/hub/uploads/{batch['id']}/").status_code == 404

    def test_a_body_declared_over_5_mb_is_refused_unread_with_413(self, api, org):
        from django.core.files.uploadedfile import SimpleUploadedFile

        from taxservice.workflow.routing.models import UploadBatch
        from taxservice.workflow.routing.uploads import MAX_BYTES

        # The body is small but says it is large: read it and the test client's payload
        # would refuse to hand out the missing bytes. It must not be read at all.
        response = api(org.coordinator).post(
            "/api/v1/hub/uploads/",
            {"file": SimpleUploadedFile("t.csv", b"source,taxpayer,item\n")},
            format="multipart",
            CONTENT_LENGTH=str(MAX_BYTES * 2),
        )
        assert (response.status_code, response.json()["code"]) == (413, "file_too_large")
        assert not UploadBatch.objects.exists()

    def test_a_file_over_5_mb_is_refused_by_its_size_with_413(self, api, org, monkeypatch):
        from django.core.files.uploadedfile import SimpleUploadedFile

        from taxservice.api import hub_views
        from taxservice.workflow.routing.models import UploadBatch
        from taxservice.workflow.routing.uploads import MAX_BYTES

        def never(**kwargs):
            raise AssertionError("upload_start was handed a file over the limit")

        monkeypatch.setattr(hub_views, "upload_start", never)
        response = api(org.coordinator).post(
            "/api/v1/hub/uploads/", {"file": SimpleUploadedFile("t.csv", b"x" * (MAX_BYTES + 1))}, format="multipart"
        )
        assert (response.status_code, response.json()["code"]) == (413, "file_too_large")
        assert response.json()["detail"]
        assert not UploadBatch.objects.exists()

    def test_a_bad_file_is_400(self, api, org):
        from django.core.files.uploadedfile import SimpleUploadedFile

        response = api(org.coordinator).post(
            "/api/v1/hub/uploads/", {"file": SimpleUploadedFile("t.pdf", b"%PDF")}, format="multipart"
        )
        assert (response.status_code, response.json()["code"]) == (400, "bad_file_type")
