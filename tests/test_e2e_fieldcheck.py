"""In Debian's Chromium: the assignee of a back-office task records a field check (实地核查)
with a PDF attachment on the task page, and sees it there with its download link; a
renamed executable is refused first, and what was typed stays. Screenshots:
test-artifacts/fieldcheck-*.png."""

from __future__ import annotations

import re

from django.utils import timezone

from taxservice.workflow.cases import services
from tests.browser import BROWSER_MARKS, shot, sign_in

pytestmark = BROWSER_MARKS


def small_pdf() -> bytes:
    """A one-page PDF with a valid cross-reference table, made here."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def test_an_assignee_records_a_field_check_with_an_attachment(
    page, live_server, org, open_case, items, settings, tmp_path
):
    from taxservice.workflow.fieldchecks.models import FieldCheck

    settings.MEDIA_ROOT = str(tmp_path / "media")
    task = open_case("joint").tasks.get()
    for name, actor in (("transfer", org.clerk), ("assign", org.back_member), ("accept", org.back_member)):
        if name == "assign":
            task.refresh_from_db()
            if task.state == "assigned":
                continue  # the robot dispatched it to the branch team's only member (随机派单)
        task = services.task_transition(task_id=task.pk, actor=actor, name=name)
    base = live_server.url
    sign_in(page, base, "back")
    page.goto(f"{base}/tasks/{task.pk}/")
    panel = page.locator("#field-checks")
    assert "尚无实地核查记录" in panel.inner_text()
    panel.locator("summary", has_text="记录实地核查").click()

    # First a renamed executable: refused by its content, and the words typed stay.
    panel.locator("input[name=place]").fill("高新区科技路 88 号 3 楼")
    panel.locator("input[name=visited_on]").fill(timezone.localdate().isoformat())
    panel.locator("input[name=result][value=confirmed]").check()
    panel.locator("textarea[name=findings]").fill("经营场所与登记地址一致，现场有 5 名员工办公。")
    panel.locator("input[name=files]").set_input_files(
        {"name": "核查照片.pdf", "mimeType": "application/pdf", "buffer": b"MZ\x90\x00" + b"\x00" * 200}
    )
    panel.locator("button[type=submit]").click()
    page.locator("#field-checks .error-text").first.wait_for()
    assert "核查照片.pdf" in page.locator("#field-checks").inner_text()
    assert page.input_value("#field-checks input[name=place]") == "高新区科技路 88 号 3 楼"
    assert "5 名员工" in page.input_value("#field-checks textarea[name=findings]")
    assert not FieldCheck.objects.exists()
    shot(page, "fieldcheck-01-refused", full_page=True)

    # Then the real PDF (the file input is never refilled by a browser: choose it again).
    pdf = tmp_path / "现场核查记录.pdf"
    pdf.write_bytes(small_pdf())
    page.locator("#field-checks input[name=files]").set_input_files(str(pdf))
    page.locator("#field-checks button[type=submit]").click()
    page.wait_for_url(re.compile(rf"/tasks/{task.pk}/#field-checks$"))
    panel = page.locator("#field-checks")
    text = panel.inner_text()
    assert "高新区科技路 88 号 3 楼" in text and "属实" in text and "现场核查记录.pdf" in text
    assert "实地核查已记录" in page.locator("table.history").inner_text()
    panel.scroll_into_view_if_needed()
    shot(page, "fieldcheck-02-recorded")
    shot(page, "fieldcheck-03-page", full_page=True)

    check = FieldCheck.objects.get()
    attachment = check.attachments.get()
    assert (check.recorded_by, check.result) == (org.back_member, "confirmed")
    assert attachment.content_type == "application/pdf" and attachment.original_name == "现场核查记录.pdf"

    # The link downloads the file under its own name.
    with page.expect_download() as download:
        panel.locator(f"a[href='/field-check-attachments/{attachment.pk}/']").click()
    assert download.value.suggested_filename == "现场核查记录.pdf"
    assert open(download.value.path(), "rb").read() == small_pdf()
