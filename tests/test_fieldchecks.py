"""Field checks (实地核查) on a task: the service, who may record and download, the
attachment checks (type by content, size and count before anything is stored), the
task page, the API and its schema (taxservice/workflow/fieldchecks, docs/field-checks.md)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

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
        assert str(transitions.label(services.FIELD_CHECK)) == "Field check recorded"

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
