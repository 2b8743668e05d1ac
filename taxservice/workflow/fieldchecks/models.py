"""Field checks (实地核查) on a task and their attachments: append-only records.

A field check is written once by `services.field_check_record`, with one row in the
task's history; a correction is another field check. Attachment files live in Django's
default storage under `fieldchecks/` with a random name; only the permission-checked
download views hand them out (there is no public media URL).
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from taxservice.audit import AppendOnly
from taxservice.org.models import Staff
from taxservice.workflow.cases.models import Task, TaskTransition

PLACE_MAX_CHARS = 200
FINDINGS_MAX_CHARS = 4000
NAME_MAX_CHARS = 200


class FileType(models.TextChoices):
    """The attachment types accepted, by the content type they are served with."""

    PDF = "application/pdf", "PDF"
    JPEG = "image/jpeg", "JPEG"
    PNG = "image/png", "PNG"


EXTENSIONS = {FileType.PDF: ".pdf", FileType.JPEG: ".jpg", FileType.PNG: ".png"}


def attachment_path(instance: FieldCheckAttachment, filename: str) -> str:
    """A random name under fieldchecks/YYYY/MM/, its extension from the checked content type
    (never the uploaded name, which is kept only as `original_name`)."""
    now = timezone.now()
    return f"fieldchecks/{now:%Y}/{now:%m}/{uuid.uuid4().hex}{EXTENSIONS.get(instance.content_type, '')}"


class FieldCheck(AppendOnly):
    """One visit to a place for a task: who went, when, what they found, and the result."""

    class Result(models.TextChoices):
        CONFIRMED = "confirmed", _("Confirmed")
        NOT_CONFIRMED = "not_confirmed", _("Not confirmed")
        NEEDS_FOLLOW_UP = "needs_follow_up", _("Needs follow-up")

    task = models.ForeignKey(Task, verbose_name=_("task"), on_delete=models.PROTECT, related_name="field_checks")
    place = models.CharField(_("place"), max_length=PLACE_MAX_CHARS)
    visited_on = models.DateField(_("visited on"))
    staff = models.ManyToManyField(Staff, verbose_name=_("who went"), related_name="+")
    findings = models.TextField(_("findings"), max_length=FINDINGS_MAX_CHARS)
    result = models.CharField(_("check result"), max_length=16, choices=Result.choices)
    recorded_by = models.ForeignKey(Staff, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    history = models.OneToOneField(
        TaskTransition,
        verbose_name=_("history row"),
        on_delete=models.PROTECT,
        related_name="field_check",
        help_text=_("The “Field check recorded” row in the task's history."),
    )

    class Meta:
        ordering = ["-recorded_at", "-id"]
        verbose_name = _("field check")
        verbose_name_plural = _("field checks")
        indexes = [models.Index(fields=["task", "recorded_at"], name="fieldcheck_task_idx")]

    def __str__(self) -> str:
        return f"field check #{self.pk} (task {self.task_id})"


class FieldCheckAttachment(AppendOnly):
    """A PDF, JPEG or PNG file of a field check, its type checked by its content."""

    field_check = models.ForeignKey(
        FieldCheck, verbose_name=_("field check"), on_delete=models.PROTECT, related_name="attachments"
    )
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=200)
    original_name = models.CharField(_("original name"), max_length=NAME_MAX_CHARS)
    content_type = models.CharField(_("content type"), max_length=32, choices=FileType.choices)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)

    class Meta:
        ordering = ["id"]
        verbose_name = _("field check attachment")
        verbose_name_plural = _("field check attachments")

    def __str__(self) -> str:
        return self.original_name
