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
    name = models.CharField(_("name"), max_length=50, blank=True)
    override_removed = models.BooleanField(_("override removed"), default=False)
    reason = models.CharField(_("reason"), max_length=500)
    actor = models.ForeignKey(Staff, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("calendar change")
        verbose_name_plural = _("calendar changes")

    def __str__(self) -> str:
        return f"{self.date}: {self.before_kind} → {self.after_kind}"
