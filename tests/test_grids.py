"""Grids: assignment by hand and by rule with history, import all or nothing, who may do what, the API."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from taxservice.errors import ActionForbidden, InvalidInput
from taxservice.grids.models import GridImport, GridRule, GridRuleRun
from taxservice.grids.services import grid_rule_create
from taxservice.taxpayers import grid_services
from taxservice.taxpayers.grid_services import grid_import_start, grid_rules_apply, taxpayer_grid_set
from taxservice.taxpayers.models import Taxpayer, TaxpayerGridChange
from tests.factories import TaxpayerFactory
from tests.grid_support import make_grids, taxpayer_in


@pytest.fixture
def grids(org):
    return make_grids(org)


def run_import(**kwargs) -> GridImport:
    """Start an import and run its job (in the tests it runs once the transaction would commit)."""
    batch = grid_import_start(**kwargs)
    return grid_services.grid_import_process(import_id=batch.pk)


def csv_bytes(rows, header=("credit_code", "grid")) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


# --- by hand ---------------------------------------------------------------------------------


def test_a_coordinator_moves_a_taxpayer_by_hand_with_one_history_row(org, grids):
    payer = taxpayer_in(grids.g1)
    taxpayer_grid_set(actor=org.coordinator, credit_code=payer.credit_code, grid_code="G2", reason="搬迁")
    payer.refresh_from_db()
    assert payer.grid == grids.g2
    change = TaxpayerGridChange.objects.get(taxpayer=payer)
    assert (change.before, change.after, change.method, change.reason, change.actor) == (
        grids.g1,
        grids.g2,
        "hand",
        "搬迁",
        org.coordinator,
    )


def test_setting_the_same_grid_writes_no_history_and_a_reason_is_required(org, grids):
    payer = taxpayer_in(grids.g1)
    taxpayer_grid_set(actor=org.coordinator, credit_code=payer.credit_code, grid_code="G1", reason="无变化")
    assert not TaxpayerGridChange.objects.exists()
    with pytest.raises(InvalidInput) as refused:
        taxpayer_grid_set(actor=org.coordinator, credit_code=payer.credit_code, grid_code="G2", reason=" ")
    assert refused.value.code == "reason_required"


def test_a_branch_chief_assigns_only_within_their_branch_and_grid_staff_not_at_all(org, grids):
    payer = taxpayer_in(grids.g1)
    taxpayer_grid_set(actor=org.chief, credit_code=payer.credit_code, grid_code="G2", reason="分局内调整")
    with pytest.raises(ActionForbidden):
        taxpayer_grid_set(actor=org.chief, credit_code=payer.credit_code, grid_code="G3", reason="跨分局")
    with pytest.raises(ActionForbidden):
        taxpayer_grid_set(actor=grids.m1, credit_code=payer.credit_code, grid_code="G1", reason="网格员")
    payer.refresh_from_db()
    assert payer.grid == grids.g2 and TaxpayerGridChange.objects.count() == 1


# --- by rule ---------------------------------------------------------------------------------


def test_rules_assign_by_address_in_order_with_history_and_a_run_record(org, grids):
    near = TaxpayerFactory(competent_branch=org.source, address="滨江区长河街道江南大道1号")
    special = TaxpayerFactory(competent_branch=org.source, address="滨江区长河街道科技园8号")
    far = TaxpayerFactory(competent_branch=org.source2, address="滨江区西兴街道月明路3号")
    nowhere = TaxpayerFactory(competent_branch=org.source2, address="外省某地")
    by_hand = taxpayer_in(grids.g3, address="滨江区长河街道江南大道9号")
    grid_rule_create(actor=org.coordinator, grid_code="G2", priority=10, address_contains="科技园")
    grid_rule_create(actor=org.coordinator, grid_code="G1", priority=20, area_code="A-S1")
    grid_rule_create(actor=org.coordinator, grid_code="G3", priority=30, area_code="A-S2")

    run = grid_rules_apply(actor=org.coordinator, reason="首次划分")

    grid_of = dict(Taxpayer.objects.values_list("pk", "grid_id"))
    assert grid_of[near.pk] == grids.g1.pk
    assert grid_of[special.pk] == grids.g2.pk  # the earlier rule wins
    assert grid_of[far.pk] == grids.g3.pk
    assert grid_of[nowhere.pk] is None
    assert grid_of[by_hand.pk] == grids.g3.pk  # scope "unassigned": a grid already given stays
    assert run.changed == 3 and run.processed_rules == 3
    history = TaxpayerGridChange.objects.filter(batch=f"rule-run:{run.pk}")
    assert {(h.taxpayer_id, h.before_id, h.after_id, h.method) for h in history} == {
        (near.pk, None, grids.g1.pk, "rule"),
        (special.pk, None, grids.g2.pk, "rule"),
        (far.pk, None, grids.g3.pk, "rule"),
    }

    again = grid_rules_apply(actor=org.coordinator, scope=GridRuleRun.Scope.ALL, reason="全部重划")
    assert again.changed == 1  # only the hand-placed taxpayer moves; the rest are where the rules say
    assert Taxpayer.objects.get(pk=by_hand.pk).grid_id == grids.g1.pk
    assert TaxpayerGridChange.objects.filter(taxpayer=by_hand).get().before_id == grids.g3.pk


def test_a_rule_needs_something_to_match_and_only_coordinators_apply_rules(org, grids):
    with pytest.raises(InvalidInput):
        grid_rule_create(actor=org.coordinator, grid_code="G1")
    with pytest.raises(ActionForbidden):
        grid_rules_apply(actor=org.chief)
    assert not GridRule.objects.exists()


# --- import ----------------------------------------------------------------------------------


def test_a_clean_file_is_imported_whole_with_history(org, grids):
    a, b = taxpayer_in(grids.g1), TaxpayerFactory(competent_branch=org.source)
    content = csv_bytes([[a.credit_code, "G2"], [b.credit_code.lower(), "G1"]])
    batch = run_import(actor=org.coordinator, filename="grids.csv", content=content, reason="年度划分")
    assert batch.state == GridImport.State.DONE and batch.changed_count == 2
    assert Taxpayer.objects.get(pk=a.pk).grid == grids.g2
    assert Taxpayer.objects.get(pk=b.pk).grid == grids.g1
    assert set(TaxpayerGridChange.objects.values_list("method", "batch", "reason")) == {
        ("import", f"import:{batch.pk}", "年度划分")
    }


def test_a_file_with_one_bad_row_is_refused_whole_and_nothing_is_written(org, grids):
    a, b = taxpayer_in(grids.g1), taxpayer_in(grids.g1)
    content = csv_bytes(
        [[a.credit_code, "G2"], ["91330000NOSUCH0000", "G2"], [b.credit_code, "G9"], [a.credit_code, "G3"]]
    )
    batch = run_import(actor=org.coordinator, filename="grids.csv", content=content)
    assert batch.state == GridImport.State.FAILED
    assert [(e["row"], e["field"]) for e in batch.errors] == [
        (3, "credit_code"),
        (4, "grid"),
        (5, "credit_code"),  # the same taxpayer put in two grids
    ]
    assert set(Taxpayer.objects.values_list("grid_id", flat=True)) == {grids.g1.pk}
    assert not TaxpayerGridChange.objects.exists()


def test_a_chiefs_import_may_not_reach_another_branchs_grid(org, grids):
    a = taxpayer_in(grids.g1)
    batch = run_import(
        actor=org.chief, filename="grids.csv", content=csv_bytes([[a.credit_code, "G2"], [a.credit_code, "G3"]])
    )
    assert batch.state == GridImport.State.FAILED and not TaxpayerGridChange.objects.exists()


@pytest.mark.parametrize(
    ("filename", "content", "code"),
    [
        ("grids.txt", b"credit_code,grid\n", "bad_file_type"),
        ("grids.csv", "credit_code,grid\n".encode("gbk") + "中文".encode("gbk"), "bad_encoding"),
        ("grids.csv", b"code,where\n1,2\n", "missing_columns"),
        ("grids.csv", b"credit_code,grid\n", "empty_file"),
        ("grids.xlsx", b"not a workbook", "bad_file"),
    ],
)
def test_an_unreadable_file_is_refused_before_anything_is_stored(org, grids, filename, content, code):
    with pytest.raises(InvalidInput) as refused:
        grid_import_start(actor=org.coordinator, filename=filename, content=content)
    assert refused.value.code == code
    assert not GridImport.objects.exists()


def test_size_and_row_limits_are_checked_before_the_file_is_read_whole(org, grids, monkeypatch):
    with pytest.raises(InvalidInput) as refused:
        grid_import_start(actor=org.coordinator, filename="g.csv", content=b"x" * (grid_services.MAX_BYTES + 1))
    assert refused.value.code == "file_too_large" and refused.value.status == 413
    monkeypatch.setattr(grid_services, "MAX_ROWS", 2)
    with pytest.raises(InvalidInput) as refused:
        grid_import_start(actor=org.coordinator, filename="g.csv", content=csv_bytes([["a", "G1"]] * 3))
    assert refused.value.code == "too_many_rows"
    assert not GridImport.objects.exists()


def test_an_xlsx_file_with_chinese_headers_is_read(org, grids):
    a = taxpayer_in(grids.g1)
    book = Workbook()
    book.active.append(["统一社会信用代码", "网格编码"])
    book.active.append([a.credit_code, "G2"])
    out = io.BytesIO()
    book.save(out)
    batch = run_import(actor=org.coordinator, filename="grids.xlsx", content=out.getvalue())
    assert batch.state == GridImport.State.DONE and Taxpayer.objects.get(pk=a.pk).grid == grids.g2


# --- pages -----------------------------------------------------------------------------------


def test_the_pages_show_grids_a_taxpayer_and_the_import_with_its_report(
    client, org, grids, django_capture_on_commit_callbacks
):
    payer = taxpayer_in(grids.g1, grade="C", address="滨江区长河街道1号")
    client.force_login(org.coordinator.user)
    assert "第1网格" in client.get("/grids/").content.decode()
    detail = client.get("/grids/G1/").content.decode()
    assert payer.name in detail and 'id="grid-tasks-form"' in detail
    page = client.get(f"/taxpayers/{payer.credit_code}/")
    assert page.status_code == 200 and "第1网格" in page.content.decode()
    moved = client.post(f"/taxpayers/{payer.credit_code}/", {"grid": "G2", "reason": "地址变更"})
    assert moved.status_code == 302 and Taxpayer.objects.get(pk=payer.pk).grid == grids.g2
    assert client.post(f"/taxpayers/{payer.credit_code}/", {"grid": "G1", "reason": ""}).status_code == 400

    upload = io.BytesIO(csv_bytes([[payer.credit_code, "G9"]]))
    upload.name = "bad.csv"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/grids/import/", {"file": upload})
    assert response.status_code == 302
    report = client.get(response["Location"]).content.decode()
    assert 'id="import-errors"' in report and "G9" in report
    assert Taxpayer.objects.get(pk=payer.pk).grid == grids.g2


def test_grid_staff_see_their_overview_but_not_the_forms_and_cannot_post_them(client, org, grids):
    payer = taxpayer_in(grids.g1)
    client.force_login(grids.m1.user)
    page = client.get("/grids/G1/").content.decode()
    assert 'id="grid-tasks-form"' not in page
    assert client.post("/grids/G1/tasks/", {"item": "G001"}).status_code == 403
    assert client.get("/grids/import/").status_code == 403
    taxpayer_page = client.get(f"/taxpayers/{payer.credit_code}/").content.decode()
    assert 'id="taxpayer-grid-form"' not in taxpayer_page
    assert client.post(f"/taxpayers/{payer.credit_code}/", {"grid": "G2", "reason": "x"}).status_code == 404
    assert client.get("/taxpayers/NOSUCHCODE/").status_code == 404


# --- API -------------------------------------------------------------------------------------


def test_the_api_lists_the_grids_one_sees_with_group_leader_and_count(api, org, grids):
    taxpayer_in(grids.g1)
    body = api(grids.m1).get("/api/v1/grids/").json()
    assert [g["code"] for g in body["results"]] == ["G1"]
    g1 = body["results"][0]
    assert g1["group"]["code"] == "GT1" and g1["leader"]["id"] == grids.m1.pk and g1["taxpayer_count"] == 1
    assert g1["street"]["name"] == "长河街道" and g1["district"] == "滨江区"
    assert len(api(org.coordinator).get("/api/v1/grids/").json()["results"]) == 3
    assert api(grids.m1).get(f"/api/v1/grids/{grids.g2.pk}/").status_code == 404


def test_the_api_reads_and_patches_a_taxpayers_grid_with_a_reason(api, org, grids):
    payer = taxpayer_in(grids.g1, grade="C")
    client = api(org.coordinator)
    got = client.get(f"/api/v1/taxpayers/{payer.credit_code}/").json()
    assert got["grid"] == "G1" and got["grid_grade"] == "C"
    url = f"/api/v1/taxpayers/{payer.credit_code}/"
    missing = client.patch(url, {"grid": "G2", "reason": ""}, format="json")
    assert missing.status_code == 400 and missing.json()["code"] == "reason_required"
    unknown = client.patch(url, {"grid": "G9", "reason": "x"}, format="json")
    assert unknown.status_code == 400 and unknown.json()["code"] == "invalid"
    refused = api(grids.m1).patch(url, {"grid": "G2", "reason": "x"}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
    moved = client.patch(url, {"grid": "G2", "reason": "地址变更"}, format="json")
    assert moved.status_code == 200 and moved.json()["grid"] == "G2"
    assert TaxpayerGridChange.objects.get(taxpayer=payer).reason == "地址变更"
    assert client.patch("/api/v1/taxpayers/NOSUCH/", {"grid": "G2", "reason": "x"}, format="json").status_code == 404
    assert client.put(url, {"grid": "G2", "reason": "x"}, format="json").status_code == 405


def test_the_api_imports_a_file_and_reports_progress_and_errors(api, org, grids, django_capture_on_commit_callbacks):
    payer = taxpayer_in(grids.g1)
    client = api(org.coordinator)
    upload = io.BytesIO(csv_bytes([[payer.credit_code, "G2"], ["NOSUCH", "G2"]]))
    upload.name = "grids.csv"
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post("/api/v1/grids/imports/", {"file": upload}, format="multipart")
    assert created.status_code == 202
    report = client.get(f"/api/v1/grids/imports/{created.json()['id']}/").json()
    assert report["state"] == "failed" and report["percent"] == 100 and report["errors"][0]["row"] == 3
    assert Taxpayer.objects.get(pk=payer.pk).grid == grids.g1
    assert api(org.chief2).get(f"/api/v1/grids/imports/{created.json()['id']}/").status_code == 404
    big = client.post(
        "/api/v1/grids/imports/",
        {"file": SimpleUploadedFile("g.csv", b"credit_code,grid\n")},
        format="multipart",
        CONTENT_LENGTH=str(grid_services.MAX_BYTES * 2),
    )
    assert big.status_code == 413 and big.json()["code"] == "file_too_large"
    assert api(grids.m1).post("/api/v1/grids/imports/", {}, format="multipart").status_code in (400, 403)


def test_the_schema_documents_the_grid_endpoints(api, org):
    schema = api(org.coordinator).get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()
    for path in (
        "/api/v1/grids/",
        "/api/v1/grids/{id}/tasks/",
        "/api/v1/grids/imports/",
        "/api/v1/taxpayers/{credit_code}/",
    ):
        assert path in schema
    assert "grid_grade" in schema and "GridTasksRequest" in schema
