"""The escalation ladder (催办·督办·通报) as data: its steps, their audited edits, and what was sent.

- `EscalationStep`: one rung an administrator can edit: what it does (remind, urge,
  supervise, notice), which due time it watches (the promise to the taxpayer or the
  running internal clock), when (working days before or after that due time), and whom
  it tells (the assignee, the branch chiefs).
- `EscalationStepChange`: an append-only record of every edit of a step.
- `Escalation`: one row per (task, step, due time) sent. The unique constraint is what
  makes the scan idempotent and safe to run twice at once; a due time moved by an
  extension is a new key, so the task can climb the ladder again.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from taxservice.audit import AppendOnly
from taxservice.org.models import Staff
from taxservice.workflow.cases.models import Task, TaskTransition

# How far from its due time a step may be set: a month of working days either way.
MAX_OFFSET_DAYS = 22


class Action(models.TextChoices):
    """What a step does; also the name of the history row it writes (transitions.SYSTEM_LABELS)."""

    REMIND = "remind", _("Reminder (提醒)")
    URGE = "urge", _("Urge (催办)")
    SUPERVISE = "supervise", _("Supervision notice (督办)")
    NOTICE = "notice", _("Public notice (通报)")


class Watch(models.TextChoices):
    """The due time a step counts from."""

    PROMISE = "promise", _("The promise to the taxpayer (due at)")
    RUNNING = "running", _("The running internal clock (acceptance, handling or feedback)")


class EscalationStep(models.Model):
    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    watch = models.CharField(_("due time watched"), max_length=16, choices=Watch.choices, default=Watch.PROMISE)
    offset_days = models.SmallIntegerField(
        _("offset (working days)"),
        validators=[MinValueValidator(-MAX_OFFSET_DAYS), MaxValueValidator(MAX_OFFSET_DAYS)],
        help_text=_(
            "Working days relative to the due time's day: -1 sends on the working day before it, "
            "1 on the working day after it, 0 on the day itself."
        ),
    )
    to_assignee = models.BooleanField(
        _("tell the assignee"), default=True, help_text=_("An unassigned task's branch chiefs are told instead.")
    )
    to_chiefs = models.BooleanField(
        _("tell the branch chiefs"),
        default=False,
        help_text=_("The branch chiefs of the task's team's branch (or, if it has none, of the branch above it)."),
    )
    active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("escalation step")
        verbose_name_plural = _("escalation steps")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(offset_days__gte=-MAX_OFFSET_DAYS, offset_days__lte=MAX_OFFSET_DAYS),
                name="escalation_step_offset_range",
            ),
            models.CheckConstraint(
                condition=models.Q(to_assignee=True) | models.Q(to_chiefs=True), name="escalation_step_tells_someone"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class EscalationStepChange(AppendOnly):
    """Who changed a step, when, and the step before and after (None before a new step)."""

    step = models.ForeignKey(EscalationStep, verbose_name=_("step"), on_delete=models.PROTECT, related_name="changes")
    changed_by = models.ForeignKey(
        Staff, verbose_name=_("changed by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"))

    class Meta:
        ordering = ["step", "changed_at", "id"]
        verbose_name = _("escalation step change")
        verbose_name_plural = _("escalation step changes")

    def __str__(self) -> str:
        return f"{self.step_id} @ {self.changed_at:%Y-%m-%d %H:%M}"


class Escalation(models.Model):
    """A step sent for a task's due time: the key of the ladder's idempotency."""

    # Served by escalation_once (task, step, due_at), which leads with the task.
    task = models.ForeignKey(
        Task, verbose_name=_("task"), on_delete=models.PROTECT, related_name="escalations", db_index=False
    )
    step = models.ForeignKey(
        EscalationStep, verbose_name=_("step"), on_delete=models.PROTECT, related_name="escalations"
    )
    due_at = models.DateTimeField(_("due time escalated"))
    transition = models.OneToOneField(
        TaskTransition,
        verbose_name=_("history row"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="escalation",
    )
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)
    # The scan that wrote the row: how a scan finds the rows it created, on every database.
    scan = models.UUIDField(_("scan"), editable=False)

    class Meta:
        ordering = ["-sent_at", "-id"]
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")
        constraints = [
            models.UniqueConstraint(fields=["task", "step", "due_at"], name="escalation_once"),
        ]
        indexes = [models.Index(fields=["scan"], name="escalation_scan_idx")]

    def __str__(self) -> str:
        return f"T{self.task_id} {self.step_id} @ {self.due_at:%Y-%m-%d %H:%M}"
