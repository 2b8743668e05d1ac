"""Field checks (实地核查) on a task: the service, who may record and download, the
attachment checks (type by content, size and count before anything is stored), the
task page, the API and its schema (taxservice/workflow/fieldchecks, docs/field-checks.md)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation

from taxservice.errors import ActionForbidden, InvalidInput, NotFound, TransitionNotAllowed
from taxservice.workflow.cases import services as task_services
from taxservice.workflow.cases import transitions
from taxservice.workflow.cases.models import TaskState, TaskTransition
from taxservice.workflow.fieldchecks import files, services
from taxservice.workflow.fieldchecks.models import FieldCheck, FieldCheckAttachment

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64  # a Windows executable's first bytes


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    """Every test stores its files in a folder of its own."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def stored_files(media: Path) -> list[Path]:
    return [path for path in media.rglob("*") if path.is_file()] if media.exists() else []


def step(org, task, name, actor, **kwargs):
    return task_services.task_transition(task_id=task.pk, actor=getattr(org, actor), name=name, **kwargs)


@pytest.fixture
def back_task(org, open_case, items):
    """A 一问联办 task in SRC1's basic team, held by 后台孙 and in progress."""
    task = open_case("joint").tasks.get()
    task = step(org, task, "transfer", "clerk")
    task = step(org, task, "assign", "back_member")
    return step(org, task, "accept", "back_member")


def record(actor, task, *, uploads=(), **overrides):
    values = {
        "place": "高新区科技路 88 号",
        "visited_on": timezone.localdate(),
        "findings": "经营场所与登记地址一致，现场有人办公。",
        "result": FieldCheck.Result.CONFIRMED,
    }
    values.update(overrides)
    return services.field_check_record(actor=actor, task_id=task.pk, uploads=list(uploads), **values)


def upload(name: str, content: bytes, content_type: str = "application/pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


# --- the service ---------------------------------------------------------------------------


class TestRecord:
    def test_the_assignee_records_a_check_with_attachments_and_a_history_row(self, org, back_task, media):
        check = record(
            org.back_member,
            back_task,
            uploads=[upload("现场照片.png", PNG, "image/png"), upload("核查记录.pdf", PDF)],
            staff_ids=[org.back_member.pk, org.chief.pk],
        )
        assert check.result == "confirmed"
        assert {person.pk for person in check.staff.all()} == {org.back_member.pk, org.chief.pk}
        assert check.recorded_by == org.back_member
        rows = list(check.attachments.order_by("pk"))
        assert [(row.original_name, row.content_type, row.size) for row in rows] == [
            ("现场照片.png", "image/png", len(PNG)),
            ("核查记录.pdf", "application/pdf", len(PDF)),
        ]
        assert rows[1].sha256 == hashlib.sha256(PDF).hexdigest()
        # Stored under fieldchecks/ with a random name whose extension comes from the content.
        assert re.fullmatch(r"fieldchecks/\d{4}/\d{2}/[0-9a-f]{32}\.pdf", rows[1].file.name)
        assert rows[1].file.read() == PDF
        assert len(stored_files(media)) == 2
        log = TaskTransition.objects.get(task=back_task, transition=services.FIELD_CHECK)
        assert check.history == log
        assert (log.actor, log.from_state, log.to_state) == (org.back_member, "in_progress", "in_progress")
        assert transitions.label(log.transition) != services.FIELD_CHECK  # a label, not the code
        back_task.refresh_from_db()
        assert back_task.state == TaskState.IN_PROGRESS  # a check moves nothing

    def test_who_went_is_the_recorder_when_nobody_is_named(self, org, back_task):
        check = record(org.back_member, back_task)
        assert list(check.staff.all()) == [org.back_member]

    def test_the_history_row_is_labelled_as_a_field_check(self, org, back_task):
        assert services.FIELD_CHECK in transitions.SYSTEM_LABELS
        with translation.override("en"):
            assert transitions.label(services.FIELD_CHECK) == "Field check recorded"
        with translation.override("zh-hans"):
            assert transitions.label(services.FIELD_CHECK) == "实地核查已记录"

    @pytest.mark.parametrize(
        ("field", "overrides"),
        [
            ("place", {"place": "  "}),
            ("place", {"place": "路" * 201}),
            ("findings", {"findings": ""}),
            ("findings", {"findings": "x" * 4001}),
            ("result", {"result": "maybe"}),
            ("visited_on", {"visited_on": None}),
            ("visited_on", {"visited_on": timezone.localdate() + dt.timedelta(days=1)}),
        ],
    )
    def test_bad_fields_are_refused_and_nothing_is_written(self, org, back_task, media, field, overrides):
        with pytest.raises(InvalidInput) as refused:
            record(org.back_member, back_task, uploads=[upload("a.pdf", PDF)], **overrides)
        assert field in refused.value.fields
        assert not FieldCheck.objects.exists()
        assert not stored_files(media)

    def test_someone_who_may_not_see_the_task_cannot_be_named_as_having_gone(self, org, back_task, media):
        with pytest.raises(InvalidInput) as refused:
            record(org.back_member, back_task, staff_ids=[org.back_member2.pk], uploads=[upload("a.pdf", PDF)])
        assert refused.value.code == "staff_not_allowed"
        assert "后台周" in " ".join(refused.value.fields["staff"])
        assert not FieldCheck.objects.exists()
        assert not TaskTransition.objects.filter(transition=services.FIELD_CHECK).exists()
        assert not stored_files(media)

    def test_a_check_is_append_only(self, org, back_task):
        check = record(org.back_member, back_task)
        check.findings = "改写"
        with pytest.raises(Exception, match="append-only"):
            check.save()
        with pytest.raises(Exception, match="append-only"):
            check.delete()


class TestAttachments:
    def test_a_renamed_executable_with_a_pdf_name_is_refused(self, org, back_task, media):
        with pytest.raises(InvalidInput) as refused:
            record(org.back_member, back_task, uploads=[upload("报告.pdf", EXE, "application/pdf")])
        assert refused.value.code == "attachment_type"
        assert "报告.pdf" in refused.value.detail
        assert not FieldCheck.objects.exists()
        assert not TaskTransition.objects.filter(transition=services.FIELD_CHECK).exists()
        assert not stored_files(media)

    def test_one_bad_file_among_good_ones_stores_nothing(self, org, back_task, media):
        good = [upload("a.pdf", PDF), upload("b.png", PNG, "image/png")]
        with pytest.raises(InvalidInput) as refused:
            record(org.back_member, back_task, uploads=[*good, upload("c.jpg", b"GIF89a" + b"\x00" * 20, "image/jpeg")])
        assert refused.value.code == "attachment_type"
        assert not FieldCheck.objects.exists()
        assert not FieldCheckAttachment.objects.exists()
        assert not stored_files(media)

    def test_an_oversized_file_is_refused_and_nothing_is_stored(self, org, back_task, media, settings):
        settings.TAXSERVICE_FIELDCHECK_MAX_BYTES = 1024
        big = upload("扫描件.pdf", b"%PDF-1.7\n" + b"0" * 1100)
        with pytest.raises(InvalidInput) as refused:
            record(org.back_member, back_task, uploads=[upload("a.pdf", PDF), big])
        assert refused.value.code == "attachment_too_large"
        assert "扫描件.pdf" in refused.value.detail
        assert not FieldCheck.objects.exists()
        assert not FieldCheckAttachment.objects.exists()
        assert not TaskTransition.objects.filter(transition=services.FIELD_CHECK).exists()
        assert not stored_files(media)

    def test_a_file_exactly_at_the_limit_is_accepted(self, org, back_task, settings):
        settings.TAXSERVICE_FIELDCHECK_MAX_BYTES = len(PDF)
        check = record(org.back_member, back_task, uploads=[upload("a.pdf", PDF)])
        assert check.attachments.get().size == len(PDF)

    def test_more_than_the_count_limit_is_refused(self, org, back_task, media):
        many = [upload(f"{n}.png", PNG, "image/png") for n in range(services.MAX_ATTACHMENTS + 1)]
        with pytest.raises(InvalidInput) as refused:
            record(org.back_member, back_task, uploads=many)
        assert refused.value.code == "too_many_attachments"
        assert not FieldCheck.objects.exists()
        assert not stored_files(media)

    def test_the_count_limit_itself_is_accepted(self, org, back_task, media):
        most = [upload(f"{n}.jpg", JPEG, "image/jpeg") for n in range(services.MAX_ATTACHMENTS)]
        check = record(org.back_member, back_task, uploads=most)
        assert check.attachments.count() == services.MAX_ATTACHMENTS
        assert len(stored_files(media)) == services.MAX_ATTACHMENTS

    def test_files_written_are_deleted_when_the_transaction_fails_after_storing(
        self, org, back_task, media, monkeypatch
    ):
        real_save = FieldCheckAttachment.save
        calls = {"n": 0}

        def failing_save(self, *args, **kwargs):
            calls["n"] += 1
            if calls["n"] == 2:
                raise RuntimeError("the database went away")
            return real_save(self, *args, **kwargs)

        monkeypatch.setattr(FieldCheckAttachment, "save", failing_save)
        with pytest.raises(RuntimeError):
            record(org.back_member, back_task, uploads=[upload("a.pdf", PDF), upload("b.pdf", PDF)])
        assert not FieldCheck.objects.exists()
        assert not stored_files(media)

    def test_the_type_is_read_from_the_content_never_the_name(self):
        assert files.sniff(PDF) == "application/pdf"
        assert files.sniff(JPEG) == "image/jpeg"
        assert files.sniff(PNG) == "image/png"
        assert files.sniff(EXE) is None
        assert files.sniff(b"") is None
        assert files.clean_name("C:\\Users\\x\\..\\报告.pdf") == "报告.pdf"
        assert files.clean_name('a"b\r\n.pdf') == "ab.pdf"


class TestWhoMayRecord:
    def test_a_supervisor_who_sees_the_task_may_record(self, org, back_task):
        assert record(org.chief, back_task).recorded_by == org.chief

    def test_a_team_member_who_does_not_hold_the_task_may_not(self, org, back_task):
        colleague = org.back_member2
        colleague.teams.add(org.basic)  # sees the task through the team, does not hold it
        colleague = type(colleague).objects.get(pk=colleague.pk)
        with pytest.raises(ActionForbidden):
            record(colleague, back_task)
        assert not FieldCheck.objects.exists()

    def test_another_branchs_staff_get_not_found(self, org, back_task):
        for outsider in (org.back_member2, org.chief2):
            with pytest.raises(NotFound):
                record(outsider, back_task)

    def test_a_closed_or_cancelled_task_is_refused_with_a_conflict(self, org, back_task, media):
        step(org, back_task, "cancel", "chief", reason="纳税人撤回申请")
        with pytest.raises(TransitionNotAllowed) as refused:
            record(org.back_member, back_task, uploads=[upload("a.pdf", PDF)])
        assert refused.value.code == "task_not_open"
        assert refused.value.status == 409
        assert not stored_files(media)


# --- the task page -------------------------------------------------------------------------


def form_data(**overrides):
    data = {
        "place": "高新区科技路 88 号",
        "visited_on": timezone.localdate().isoformat(),
        "result": "needs_follow_up",
        "findings": "门牌与登记一致，需补充租赁合同。",
    }
    data.update(overrides)
    return data


class TestTaskPage:
    def test_the_assignee_records_a_check_from_the_task_page_and_sees_it(self, client, org, back_task, media):
        client.force_login(org.back_member.user)
        page = client.get(f"/tasks/{back_task.pk}/").content.decode()
        assert 'id="field-checks"' in page
        assert 'enctype="multipart/form-data"' in page
        response = client.post(
            f"/tasks/{back_task.pk}/field-checks/",
            {**form_data(), "staff": [org.back_member.pk], "files": [upload("现场.pdf", PDF)]},
        )
        assert response.status_code == 302
        assert response["Location"].endswith(f"/tasks/{back_task.pk}/#field-checks")
        check = FieldCheck.objects.get()
        attachment = check.attachments.get()
        page = client.get(f"/tasks/{back_task.pk}/").content.decode()
        assert "高新区科技路 88 号" in page
        assert "需补充租赁合同" in page
        assert f'href="/field-check-attachments/{attachment.pk}/"' in page
        assert "现场.pdf" in page
        assert "实地核查已记录" in page  # the history row, in Chinese

    def test_a_refusal_shows_the_form_again_with_what_was_typed(self, client, org, back_task, media):
        client.force_login(org.back_member.user)
        response = client.post(
            f"/tasks/{back_task.pk}/field-checks/",
            {**form_data(place="老城区解放路 1 号"), "files": [upload("报告.pdf", EXE)]},
        )
        assert response.status_code == 400
        page = response.content.decode()
        assert 'value="老城区解放路 1 号"' in page
        assert "门牌与登记一致，需补充租赁合同。" in page
        assert "报告.pdf" in page  # the message names the refused file
        assert re.search(r'name="result" value="needs_follow_up"[^>]*checked', page)
        assert not FieldCheck.objects.exists()
        assert not stored_files(media)

    def test_a_blank_findings_is_shown_on_its_input(self, client, org, back_task):
        client.force_login(org.back_member.user)
        response = client.post(f"/tasks/{back_task.pk}/field-checks/", form_data(findings=""))
        assert response.status_code == 400
        assert "field-error" in response.content.decode()
        assert not FieldCheck.objects.exists()

    def test_someone_who_may_not_record_sees_the_checks_but_no_form(self, client, org, back_task):
        record(org.back_member, back_task)
        colleague = org.back_member2
        colleague.teams.add(org.basic)
        client.force_login(colleague.user)
        page = client.get(f"/tasks/{back_task.pk}/").content.decode()
        assert "高新区科技路 88 号" in page
        assert f'action="/tasks/{back_task.pk}/field-checks/"' not in page

    def test_another_branchs_staff_cannot_post_a_check(self, client, org, back_task):
        client.force_login(org.back_member2.user)
        response = client.post(f"/tasks/{back_task.pk}/field-checks/", form_data())
        assert response.status_code == 404
        assert not FieldCheck.objects.exists()


class TestDownload:
    @pytest.fixture
    def attachment(self, org, back_task):
        return record(org.back_member, back_task, uploads=[upload("核查 记录.pdf", PDF)]).attachments.get()

    def test_staff_who_see_the_task_download_the_file_as_an_attachment(self, client, org, attachment):
        client.force_login(org.chief.user)
        response = client.get(f"/field-check-attachments/{attachment.pk}/")
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == PDF
        assert response["Content-Type"] == "application/pdf"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Disposition"].startswith("attachment;")
        assert "filename*=utf-8''%E6%A0%B8%E6%9F%A5%20%E8%AE%B0%E5%BD%95.pdf" in response["Content-Disposition"]

    def test_another_branchs_staff_get_404_as_for_a_file_that_does_not_exist(self, client, org, attachment):
        for outsider in (org.back_member2, org.chief2):
            client.force_login(outsider.user)
            assert client.get(f"/field-check-attachments/{attachment.pk}/").status_code == 404
            assert client.get(f"/field-check-attachments/{attachment.pk + 1000}/").status_code == 404

    def test_media_is_not_served_at_a_public_url(self, client, org, attachment):
        client.force_login(org.back_member.user)
        assert client.get(f"/media/{attachment.file.name}").status_code == 404

    def test_signed_out_visitors_go_to_the_login_page(self, client, attachment):
        response = client.get(f"/field-check-attachments/{attachment.pk}/")
        assert response.status_code == 302
        assert "/login/" in response["Location"]


# --- the API -------------------------------------------------------------------------------


class TestApi:
    def test_it_records_a_check_with_files_in_multipart_and_lists_it(self, api, org, back_task, media):
        client = api(org.back_member)
        url = f"/api/v1/tasks/{back_task.pk}/field-checks/"
        response = client.post(
            url,
            {
                **form_data(result="not_confirmed"),
                "staff": [org.back_member.pk, org.chief.pk],
                "files": [upload("a.pdf", PDF), upload("b.jpg", JPEG, "image/jpeg")],
            },
            format="multipart",
        )
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["result"] == "not_confirmed"
        assert sorted(person["id"] for person in body["staff"]) == sorted([org.back_member.pk, org.chief.pk])
        assert [(row["name"], row["content_type"]) for row in body["attachments"]] == [
            ("a.pdf", "application/pdf"),
            ("b.jpg", "image/jpeg"),
        ]
        listing = client.get(url).json()
        assert listing["count"] == 1
        download = listing["results"][0]["attachments"][0]["download_url"]
        assert download.endswith(f"/api/v1/field-check-attachments/{body['attachments'][0]['id']}/")
        file_response = client.get(download)
        assert file_response.status_code == 200
        assert b"".join(file_response.streaming_content) == PDF
        assert file_response["X-Content-Type-Options"] == "nosniff"

    def test_files_sent_as_files_brackets_are_checked_and_stored_too(self, api, org, back_task, media):
        url = f"/api/v1/tasks/{back_task.pk}/field-checks/"
        refused = api(org.back_member).post(url, {**form_data(), "files[]": [upload("x.pdf", EXE)]}, format="multipart")
        assert (refused.status_code, refused.json()["code"]) == (400, "attachment_type")
        assert not stored_files(media)
        response = api(org.back_member).post(
            url, {**form_data(), "files[]": [upload("a.pdf", PDF)]}, format="multipart"
        )
        assert response.status_code == 201
        assert [row["name"] for row in response.json()["attachments"]] == ["a.pdf"]

    @pytest.mark.parametrize(
        ("files", "code"),
        [
            ([("setup.pdf", EXE)], "attachment_type"),
            ([("a.png", PNG)] * (services.MAX_ATTACHMENTS + 1), "too_many_attachments"),
        ],
    )
    def test_refused_files_answer_400_with_a_code_and_store_nothing(self, api, org, back_task, media, files, code):
        response = api(org.back_member).post(
            f"/api/v1/tasks/{back_task.pk}/field-checks/",
            {**form_data(), "files": [upload(name, content) for name, content in files]},
            format="multipart",
        )
        assert response.status_code == 400
        assert response.json()["code"] == code
        assert "files" in response.json()["fields"]
        assert not FieldCheck.objects.exists()
        assert not stored_files(media)

    def test_an_oversized_file_answers_attachment_too_large(self, api, org, back_task, media, settings):
        settings.TAXSERVICE_FIELDCHECK_MAX_BYTES = 100
        response = api(org.back_member).post(
            f"/api/v1/tasks/{back_task.pk}/field-checks/",
            {**form_data(), "files": [upload("big.pdf", PDF + b"x" * 200)]},
            format="multipart",
        )
        assert (response.status_code, response.json()["code"]) == (400, "attachment_too_large")
        assert not FieldCheck.objects.exists()
        assert not stored_files(media)

    def test_another_branch_gets_404_for_the_task_its_checks_and_its_files(self, api, org, back_task):
        attachment = record(org.back_member, back_task, uploads=[upload("a.pdf", PDF)]).attachments.get()
        outsider = api(org.chief2)
        url = f"/api/v1/tasks/{back_task.pk}/field-checks/"
        assert outsider.get(url).status_code == 404
        assert outsider.post(url, form_data(), format="multipart").status_code == 404
        assert outsider.get(f"/api/v1/field-check-attachments/{attachment.pk}/").status_code == 404
        assert FieldCheck.objects.count() == 1

    def test_a_colleague_who_does_not_hold_the_task_gets_403_and_a_closed_task_409(self, api, org, back_task):
        colleague = org.back_member2
        colleague.teams.add(org.basic)
        url = f"/api/v1/tasks/{back_task.pk}/field-checks/"
        response = api(colleague).post(url, form_data(), format="multipart")
        assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
        step(org, back_task, "cancel", "chief", reason="纳税人撤回申请")
        response = api(org.back_member).post(url, form_data(), format="multipart")
        assert (response.status_code, response.json()["code"]) == (409, "task_not_open")

    def test_the_schema_describes_the_endpoints_with_their_refusals(self, api, org):
        schema = api(org.back_member).get("/api/schema/", HTTP_ACCEPT="application/json").json()
        create = schema["paths"]["/api/v1/tasks/{task_id}/field-checks/"]["post"]
        assert "multipart/form-data" in create["requestBody"]["content"]
        assert {"201", "400", "403", "404", "409"} <= set(create["responses"])
        listing = schema["paths"]["/api/v1/tasks/{task_id}/field-checks/"]["get"]
        assert "PaginatedFieldCheckList" in str(listing["responses"]["200"])
        download = schema["paths"]["/api/v1/field-check-attachments/{attachment_id}/"]["get"]
        assert {"200", "404"} <= set(download["responses"])
        assert "application/pdf" in download["responses"]["200"]["content"]
        request_body = schema["components"]["schemas"]["FieldCheckCreateRequest"]["properties"]
        assert request_body["files"]["items"]["format"] == "binary"


# --- the demo ------------------------------------------------------------------------------


def test_the_demo_city_has_field_checks_with_attachments_and_its_reset_removes_them(db, media):
    from taxservice.demo import city as demo

    demo.demo_build(seed=7, taxpayers=50, cases=40)
    checks = list(FieldCheck.objects.prefetch_related("attachments"))
    assert checks
    attachments = [attachment for check in checks for attachment in check.attachments.all()]
    assert {attachment.content_type for attachment in attachments} <= {"application/pdf", "image/png"}
    assert all(attachment.file.read(5) in (b"%PDF-", b"\x89PNG\r") for attachment in attachments)
    assert len(stored_files(media)) == len(attachments) >= len(checks)
    for check in checks:
        assert check.task.tier == "back" and check.recorded_by_id == check.task.assignee_id
    demo.demo_reset()
    assert not FieldCheck.objects.exists() and not FieldCheckAttachment.objects.exists()
    assert not stored_files(media)
