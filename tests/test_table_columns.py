"""Number columns sit under their own headers (issue #13, defect 7).

In Chromium: every body row of the robot's runs, the uploads list and an upload's error
report has as many cells as the header; a cell under a numeric header is a number cell,
right-aligned like its header, its text ending where the header's text ends.
"""

from __future__ import annotations

from tests.browser import BROWSER_MARKS, shot, sign_in

pytestmark = BROWSER_MARKS

# For each table: its header cells (class and the right edge of their text) and, row by
# row, the same for its cells. A text's right edge is measured on its glyphs (a Range), so
# a left-aligned number in a right-aligned column shows up as a gap.
MEASURE = """
(table) => {
  const textRight = (cell) => {
    const range = document.createRange();
    range.selectNodeContents(cell);
    const rects = Array.from(range.getClientRects()).filter((r) => r.width > 0);
    return rects.length ? Math.max(...rects.map((r) => r.right)) : null;
  };
  const describe = (cell) => ({
    numeric: cell.classList.contains("num"),
    align: getComputedStyle(cell).textAlign,
    textRight: textRight(cell),
    cellRight: cell.getBoundingClientRect().right,
    paddingRight: parseFloat(getComputedStyle(cell).paddingRight),
    text: cell.innerText.trim(),
  });
  return {
    head: Array.from(table.tHead.rows[0].cells).map(describe),
    rows: Array.from(table.tBodies[0].rows).map((row) => Array.from(row.cells).map(describe)),
  };
}
"""


def _check_columns(page, selector: str, numeric_headers: set[str]) -> None:
    table = page.evaluate(MEASURE, page.locator(selector).element_handle())
    head, rows = table["head"], table["rows"]
    assert rows, f"{selector} has no rows"
    assert {cell["text"] for cell in head if cell["numeric"]} == numeric_headers
    for row in rows:
        assert len(row) == len(head), f"{selector}: a row of {len(row)} cells under {len(head)} headers"
        for header, cell in zip(head, row, strict=True):
            where = f"{selector}, “{cell['text']}” under “{header['text']}”"
            assert cell["numeric"] == header["numeric"], where
            if not header["numeric"]:
                continue
            assert header["align"] == cell["align"] == "right", where
            # The number's last digit under the header's last character (within a pixel or two).
            assert abs(cell["textRight"] - header["textRight"]) <= 2, where
            assert abs(cell["textRight"] - (cell["cellRight"] - cell["paddingRight"])) <= 2, where


def test_numbers_sit_under_their_headers_on_the_robot_and_upload_pages(page, live_server, org):
    from taxservice.workflow.routing.models import RobotRun, UploadBatch

    RobotRun.objects.create(trigger="transfer", duration_ms=12, dispatched=1)
    RobotRun.objects.create(
        trigger="sweep", duration_ms=85, dispatched=14, skipped=3, skipped_reasons={"no_eligible:capacity,on_duty": 3}
    )
    UploadBatch.objects.create(
        uploaded_by=org.coordinator,
        filename="tasks.csv",
        total_rows=2,
        processed_rows=2,
        created_count=1,
        merged_count=1,
        state=UploadBatch.State.DONE,
    )
    failed = UploadBatch.objects.create(
        uploaded_by=org.coordinator,
        filename="bad.csv",
        total_rows=12,
        processed_rows=12,
        state=UploadBatch.State.FAILED,
        errors=[
            {"row": 2, "field": "source", "message": "未知来源条线“fax”。"},
            {"row": 12, "field": "item", "message": "未知事项“NOPE”。"},
        ],
    )
    base = live_server.url
    sign_in(page, base, "coordinator")

    page.goto(base + "/middle-office/hub/robot/")
    _check_columns(page, "#robot-runs", {"耗时（毫秒）", "已派发", "跳过"})
    shot(page, "43-robot-columns")

    page.goto(base + "/middle-office/hub/uploads/")
    _check_columns(page, "#upload-batches", {"行数", "新建", "并入"})
    shot(page, "44-upload-columns")

    page.goto(base + f"/middle-office/hub/uploads/{failed.pk}/")
    _check_columns(page, "#upload-errors", {"行号"})
    shot(page, "45-upload-error-columns")
