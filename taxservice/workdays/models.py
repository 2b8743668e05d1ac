"""The working-day calendar's editable part: one override row per date.

Every other day comes from the `chinese-calendar` package (China's public holidays and the
adjusted working weekends, 调休, for each year it covers) or, for years it does not cover
yet, from the weekday. The State Council publishes each year's arrangement late in the
year before, so administrators enter it here as overrides until the package catches up.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from taxservice.audit import AppendOnly
from taxservice.org.models import Staff


class DayKind(models.TextChoices):
    WORKDAY = "workday", _("Working day")
    WEEKEND = "weekend", _("Weekend")
    HOLIDAY = "holiday", _("Public holiday")
    ADJUSTED_WORKDAY = "adjusted_workday", _("Adjusted working day")


WORKING_KINDS = frozenset({DayKind.WORKDAY, DayKind.ADJUSTED_WORKDAY})


class CalendarOverride(models.Model):
    """An administrator's word on one date; it wins over the package and the weekday."""

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=24, choices=DayKind.choices)
    name = models.CharField(_("name"), max_length=50, blank=True, help_text=_("The holiday's name, if any."))
    reason = models.CharField(_("reason"), max_length=500)
    changed_by = models.ForeignKey(Staff, verbose_name=_("changed by"), on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)

    class Meta:
        ordering = ["date"]
        verbose_name = _("calendar override")
        verbose_name_plural = _("calendar overrides")

    def __str__(self) -> str:
        return f"{self.date}: {self.kind}"


class CalendarChange(AppendOnly):
    """The audit trail of the overrides: one row per set or removal, with who and why."""

    date = models.DateField(_("date"))
    before_kind = models.CharField(_("kind before"), max_length=24, choices=DayKind.choices)
    after_kind = models.CharField(_("kind after"), max_length=24, choices=DayKind.choices)
    before_name = models.CharField(_("name before"), max_length=50, blank=True)
    name = models.CharField(_("name"), max_length=50, blank=True)
    override_removed = models.BooleanField(_("override removed"), default=False)
    reason = models.CharField(_("reason"), max_length=500)
    actor = models.ForeignKey(Staff, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("at"), default=timezone.now)
    # The recomputation the change started; none when the day stayed as working (or as
    # idle) as it was, which moves no due time.
    recompute = models.ForeignKey(
        "ClockRecompute",
        verbose_name=_("recomputation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="calendar_changes",
    )

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("calendar change")
        verbose_name_plural = _("calendar changes")

    def __str__(self) -> str:
        return f"{self.date}: {self.before_kind} → {self.after_kind}"


class ClockRecompute(models.Model):
    """One recomputation of the open tasks' due times, after a calendar override or a change
    of an item's time limits: its cause, its progress (the page's progress bar) and its end.
    Closed and cancelled tasks are never rewritten; each task whose due times moved gets a
    `recompute_due` row in its history."""

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    cause = models.CharField(_("cause"), max_length=200)
    requested_by = models.ForeignKey(
        Staff, verbose_name=_("requested by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    item_code = models.CharField(
        _("item"), max_length=16, blank=True, help_text=_("Only this item's tasks; empty means every open task.")
    )
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.PENDING)
    total = models.PositiveIntegerField(_("open tasks"), default=0)
    done = models.PositiveIntegerField(_("tasks checked"), default=0)
    moved = models.PositiveIntegerField(_("tasks whose due times moved"), default=0)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("requested at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("due-time recomputation")
        verbose_name_plural = _("due-time recomputations")

    def __str__(self) -> str:
        return f"{self.cause} ({self.state})"

    @property
    def percent(self) -> int:
        return 100 if self.state == self.State.DONE else int(100 * self.done / self.total) if self.total else 0
