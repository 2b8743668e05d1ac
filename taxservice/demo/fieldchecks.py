"""The demo's field checks (实地核查): a few open back-office tasks get a visit recorded by
their assignee, with a small generated PDF or PNG attached — through the service, so the
files are checked and stored as in the product (Django's storage, MEDIA_ROOT).

`build_field_checks` runs after the cases; `delete_demo_field_checks` before the demo's
tasks and their histories go (a check points at both), removing the stored files too.
"""

from __future__ import annotations

import datetime as dt
import random
import struct
import zlib

from django.core.files.base import ContentFile
from django.db import models
from django.utils import timezone

from taxservice.org.models import Tier
from taxservice.workflow.cases.models import OPEN_STATES, Task
from taxservice.workflow.fieldchecks import services
from taxservice.workflow.fieldchecks.models import FieldCheck, FieldCheckAttachment

HOW_MANY = 6
R = FieldCheck.Result
FINDINGS = (
    (R.CONFIRMED, "经营场所与登记地址一致，现场有员工正常办公，账簿凭证齐全。"),
    (R.CONFIRMED, "实地查看生产车间与仓库，设备在用，与申报的经营范围相符。"),
    (R.NOT_CONFIRMED, "登记地址为住宅，现场无经营迹象，物业称该企业已搬离半年。"),
    (R.NEEDS_FOLLOW_UP, "法定代表人不在场，仅见财务人员；需补充租赁合同后再次核实。"),
)


def build_field_checks(rng: random.Random, case_ids: list[int]) -> list[FieldCheck]:
    """Field checks on up to HOW_MANY open, held back-office tasks of the demo's cases."""
    tasks = list(
        Task.objects.filter(case_id__in=case_ids, tier=Tier.BACK, state__in=OPEN_STATES, assignee__isnull=False)
        .select_related("assignee", "taxpayer", "team")
        .order_by("pk")[: HOW_MANY * 3]
    )
    checks = []
    for task in rng.sample(tasks, min(HOW_MANY, len(tasks))):
        result, findings = rng.choice(FINDINGS)
        address = task.taxpayer.address or f"{task.taxpayer.name}登记地址"
        teammates = list(task.team.members.exclude(pk=task.assignee_id).order_by("pk")[:3]) if task.team else []
        went = [task.assignee_id] + ([rng.choice(teammates).pk] if teammates else [])
        uploads = [ContentFile(demo_pdf(f"T{task.pk}"), name=f"T{task.pk}-核查记录.pdf")]
        if rng.random() < 0.5:
            uploads.append(ContentFile(demo_png(rng), name=f"T{task.pk}-现场照片.png"))
        checks.append(
            services.field_check_record(
                actor=task.assignee,
                task_id=task.pk,
                place=address,
                visited_on=timezone.localdate() - dt.timedelta(days=rng.randint(0, 3)),
                findings=findings,
                result=result,
                staff_ids=went,
                uploads=uploads,
            )
        )
    return checks


def delete_demo_field_checks(*, task_ids: set[int] | list[int]) -> None:
    """Remove the field checks of these tasks, with their stored files (maintenance only:
    the checks are append-only, so this deletes through the plain queryset)."""
    attachments = FieldCheckAttachment.objects.filter(field_check__task_id__in=task_ids)
    for attachment in attachments:
        attachment.file.storage.delete(attachment.file.name)
    models.QuerySet.delete(attachments)
    FieldCheck.staff.through.objects.filter(fieldcheck__task_id__in=task_ids).delete()
    models.QuerySet.delete(FieldCheck.objects.filter(task_id__in=task_ids))


def demo_pdf(title: str) -> bytes:
    """A one-page PDF with a line of text and a valid cross-reference table."""
    text = f"Field check {title}".encode("ascii")
    stream = b"BT /F1 18 Tf 40 60 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 360 120] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
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


def demo_png(rng: random.Random, size: int = 48) -> bytes:
    """A small PNG: two colour bands, as a stand-in for a photo of the site."""
    top = bytes(rng.randrange(80, 200) for _ in range(3))
    bottom = bytes(rng.randrange(40, 120) for _ in range(3))
    rows = b"".join(b"\x00" + (top if y < size // 2 else bottom) * size for y in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
