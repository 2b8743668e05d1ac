"""Recording a field check (实地核查) on a task. The task page and the API call this.

`field_check_record` validates everything before anything is stored: the fields, then
the attachments (at most MAX_ATTACHMENTS, each at most TAXSERVICE_FIELDCHECK_MAX_BYTES,
each a PDF, JPEG or PNG by its first bytes). Then, in one transaction: the task's row is
locked, the actor's permission checked (`policy.may_record`), the task must be open, the
history row ("Field check recorded") is written, then the check, then the files and
their rows. A file is written to storage only inside that transaction, and every file
written is deleted again if the transaction does not commit from here. On any refusal
nothing is written.

Records are append-only: a correction is another field check.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from taxservice import access
from taxservice.errors import ActionForbidden, InvalidInput, NotFound, TransitionNotAllowed
from taxservice.org.models import Staff
from taxservice.workflow import sql
from taxservice.workflow.cases.models import TERMINAL_STATES, TaskTransition
from taxservice.workflow.fieldchecks import files, policy
from taxservice.workflow.fieldchecks.models import (
    FINDINGS_MAX_CHARS,
    PLACE_MAX_CHARS,
    FieldCheck,
    FieldCheckAttachment,
)

# The name of the row each check writes into the task's history (transitions.SYSTEM_LABELS).
FIELD_CHECK = "field_check"
MAX_ATTACHMENTS = 10
CHUNK = 64 * 1024


def max_bytes() -> int:
    return int(settings.TAXSERVICE_FIELDCHECK_MAX_BYTES)


@dataclass(frozen=True)
class CheckedFile:
    """An upload that passed the checks: its content, and what we know of it."""

    content: File
    name: str
    content_type: str
    size: int
    sha256: str


def field_check_record(
    *,
    actor: Staff,
    task_id: int,
    place: str,
    visited_on: dt.date | None,
    findings: str,
    result: str,
    staff_ids: Sequence[int] = (),
    uploads: Sequence[File] = (),
) -> FieldCheck:
    """Record a field check on task `task_id`; `staff_ids` are who went (the actor when
    none are given), `uploads` the attachments (Django files: an UploadedFile, a ContentFile
    with a name). Refusals: InvalidInput (`invalid`, `attachment_type`,
    `attachment_too_large`, `too_many_attachments`, `staff_not_allowed`), NotFound (the task
    is not one the actor sees), ActionForbidden, TransitionNotAllowed (`task_not_open`)."""
    place, findings = (place or "").strip(), (findings or "").strip()
    errors: dict[str, list[str]] = {}
    if not place:
        errors["place"] = [_("Say where the check was made.")]
    elif len(place) > PLACE_MAX_CHARS:
        errors["place"] = [_("At most %(n)s characters.") % {"n": PLACE_MAX_CHARS}]
    if visited_on is None:
        errors["visited_on"] = [_("Give the day of the check.")]
    elif visited_on > timezone.localdate():
        errors["visited_on"] = [_("A field check cannot be recorded for a day still to come.")]
    if not findings:
        errors["findings"] = [_("Write down what was found.")]
    elif len(findings) > FINDINGS_MAX_CHARS:
        errors["findings"] = [_("At most %(n)s characters.") % {"n": FINDINGS_MAX_CHARS}]
    if result not in FieldCheck.Result.values:
        errors["result"] = [_("Choose a result.")]
    if errors or visited_on is None:
        raise InvalidInput(_("The field check was not recorded."), fields=errors)
    checked = check_uploads(uploads)
    stored: list[str] = []
    try:
        with transaction.atomic():
            check = _record(
                actor=actor,
                task_id=task_id,
                place=place,
                visited_on=visited_on,
                findings=findings,
                result=result,
                staff_ids=staff_ids,
                checked=checked,
                stored=stored,
            )
    except BaseException:
        _delete_stored(stored)
        raise
    return check


def check_uploads(uploads: Sequence[File]) -> list[CheckedFile]:
    """Check every attachment before any is stored: the count, each one's size, and each
    one's type by its first bytes. Reads each file once (for its SHA-256)."""
    if len(uploads) > MAX_ATTACHMENTS:
        raise InvalidInput(
            _("At most %(n)s attachments per field check.") % {"n": MAX_ATTACHMENTS},
            code="too_many_attachments",
            fields={"files": [_("At most %(n)s files.") % {"n": MAX_ATTACHMENTS}]},
        )
    limit = max_bytes()
    checked: list[CheckedFile] = []
    for upload in uploads:
        name = files.clean_name(getattr(upload, "name", "") or "")
        size = upload.size or 0
        if size > limit:
            raise _too_large(name, limit)
        upload.seek(0)
        kind = files.sniff(upload.read(files.HEAD_BYTES))
        if kind is None:
            raise InvalidInput(
                _("%(name)s is not a PDF, JPEG or PNG file.") % {"name": name},
                code="attachment_type",
                fields={"files": [_("%(name)s: only PDF, JPEG and PNG files are accepted.") % {"name": name}]},
            )
        upload.seek(0)
        digest, counted = hashlib.sha256(), 0
        for chunk in upload.chunks(CHUNK):
            digest.update(chunk)
            counted += len(chunk)
            if counted > limit:  # a size that was not told, or told wrong
                raise _too_large(name, limit)
        upload.seek(0)
        checked.append(CheckedFile(upload, name, kind, counted, digest.hexdigest()))
    return checked


def _too_large(name: str, limit: int) -> InvalidInput:
    megabytes = f"{limit / (1024 * 1024):g}"
    return InvalidInput(
        _("%(name)s is larger than %(mb)s MB.") % {"name": name, "mb": megabytes},
        code="attachment_too_large",
        fields={"files": [_("%(name)s: at most %(mb)s MB per file.") % {"name": name, "mb": megabytes}]},
    )


def _record(
    *,
    actor: Staff,
    task_id: int,
    place: str,
    visited_on: dt.date,
    findings: str,
    result: str,
    staff_ids: Sequence[int],
    checked: list[CheckedFile],
    stored: list[str],
) -> FieldCheck:
    """The writes; call inside `transaction.atomic`. Names of files written go to `stored`."""
    task = sql.tasks_for_update().select_related("team", "case", "item", "taxpayer").filter(pk=task_id).first()
    if task is None or not access.can_see_task(actor, task):
        raise NotFound(_("No task %(id)s.") % {"id": task_id})
    if not policy.may_record(actor, task):
        raise ActionForbidden(str(policy.RECORD_REFUSAL))
    if task.state in TERMINAL_STATES:
        raise TransitionNotAllowed(
            _("The task is %(state)s: field checks are recorded on open tasks only.")
            % {"state": task.get_state_display().lower()},
            code="task_not_open",
        )
    people = _people(actor=actor, task=task, staff_ids=staff_ids)
    now = timezone.now()
    log = TaskTransition.objects.create(
        task=task,
        transition=FIELD_CHECK,
        from_state=task.state,
        to_state=task.state,
        actor=actor,
        at=now,
        reason=f"{place}\n{_summary(findings)}",
    )
    check = FieldCheck.objects.create(
        task=task,
        place=place,
        visited_on=visited_on,
        findings=findings,
        result=result,
        recorded_by=actor,
        recorded_at=now,
        history=log,
    )
    check.staff.set(people)
    for item in checked:
        attachment = FieldCheckAttachment(
            field_check=check,
            original_name=item.name,
            content_type=item.content_type,
            size=item.size,
            sha256=item.sha256,
        )
        # Written through the storage API under a random name (models.attachment_path).
        attachment.file.save(item.name, item.content, save=False)
        stored.append(attachment.file.name)
        attachment.save()
    return check


def _people(*, actor: Staff, task: Any, staff_ids: Sequence[int]) -> list[Staff]:
    """Who went: the named staff (each must see the task), or the actor alone."""
    ids = list(dict.fromkeys(int(pk) for pk in staff_ids))
    if not ids:
        return [actor]
    people = list(Staff.objects.select_related("home_branch").prefetch_related("role_rows", "teams").filter(pk__in=ids))
    found = {person.pk for person in people}
    problems = [_("No staff member %(id)s.") % {"id": pk} for pk in ids if pk not in found]
    problems += [
        _("%(name)s may not see this task.") % {"name": person.name}
        for person in people
        if not policy.may_go(person, task)
    ]
    if problems:
        raise InvalidInput(_("The field check was not recorded."), code="staff_not_allowed", fields={"staff": problems})
    return sorted(people, key=lambda person: person.pk)


def _summary(text: str, limit: int = 200) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"


def _delete_stored(names: list[str]) -> None:
    """Remove the files of a check whose transaction did not commit."""
    storage = FieldCheckAttachment.file.field.storage
    for name in names:
        storage.delete(name)
