"""The item catalogue (事项清单): what can be asked for, and who handles it."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from taxservice.audit import AppendOnly
from taxservice.org.models import Staff, Team, Tier
from taxservice.workdays.models import ClockRecompute


class HandlingList(models.TextChoices):
    IMMEDIATE = "immediate", _("Handled at the first ask (一问即办)")
    ASSISTED = "assisted", _("Handled with assistance (一问辅办)")
    JOINT = "joint", _("Handled jointly (一问联办)")


class Item(models.Model):
    code = models.CharField(_("code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=100)
    handling_list = models.CharField(_("list"), max_length=16, choices=HandlingList.choices)
    tier = models.CharField(_("tier"), max_length=8, choices=Tier.choices)
    team_kind = models.CharField(_("team kind"), max_length=24, choices=Team.Kind.choices)
    steps = models.JSONField(_("steps"), default=list, blank=True, help_text=_("The handling steps, in order."))
    # The time limits (taxservice/workflow/cases/clocks.py). The promise to the taxpayer
    # counts from receipt; the three internal clocks from assignment, acceptance and
    # completion. Changing one recomputes the open tasks' due times.
    time_limit_days = models.PositiveSmallIntegerField(
        _("time limit (working days)"), default=0, help_text=_("The promise to the taxpayer. 0 means on the spot.")
    )
    time_limit_hours = models.PositiveSmallIntegerField(
        _("time limit (working hours)"),
        null=True,
        blank=True,
        help_text=_("Where the item counts in hours: this many working hours instead of the days."),
    )
    transfer_limit_days = models.PositiveSmallIntegerField(
        _("limit when transferred (working days)"),
        default=3,
        help_text=_("For an item handled at the first ask that is transferred after all: its promise from receipt."),
    )
    acceptance_limit_days = models.PositiveSmallIntegerField(
        _("acceptance limit (working days)"), default=1, help_text=_("From assignment to acceptance.")
    )
    handling_limit_days = models.PositiveSmallIntegerField(
        _("handling limit (working days)"),
        null=True,
        blank=True,
        help_text=_("From acceptance to done. Empty: the time limit."),
    )
    feedback_limit_days = models.PositiveSmallIntegerField(
        _("feedback limit (working days)"), default=2, help_text=_("From done to the feedback to the taxpayer.")
    )
    extension_cap_days = models.PositiveSmallIntegerField(
        _("extension cap (working days)"), default=10, help_text=_("The most that extensions may add in all.")
    )
    moved_forward = models.BooleanField(_("moved forward"), default=False)
    high_frequency = models.BooleanField(_("high frequency"), default=False)
    needs_approval = models.BooleanField(_("needs approval"), default=False)
    approval_levels = models.PositiveSmallIntegerField(
        _("approval steps"),
        choices=[(1, _("Branch chief")), (2, _("Team lead, then branch chief"))],
        default=1,
        help_text=_("Where the item needs approval: how many steps, each recorded with its opinion."),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("catalogue item")
        verbose_name_plural = _("catalogue items")
        indexes = [models.Index(fields=["handling_list", "tier"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(approval_levels__in=[1, 2]), name="item_approval_levels_1_or_2")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def is_immediate(self) -> bool:
        return self.handling_list == HandlingList.IMMEDIATE


# The fields of an item that set its tasks' clocks (taxservice/workflow/cases/clocks.py),
# changed only through `catalogue.services.item_limits_change`.
LIMIT_FIELDS = (
    "time_limit_days",
    "time_limit_hours",
    "transfer_limit_days",
    "acceptance_limit_days",
    "handling_limit_days",
    "feedback_limit_days",
    "extension_cap_days",
)


class ItemLimitChange(AppendOnly):
    """The audit trail of the items' time limits: one row per change, the limits before and
    after, who and why, and the recomputation of the item's open tasks it started."""

    item = models.ForeignKey(Item, verbose_name=_("item"), on_delete=models.PROTECT, related_name="limit_changes")
    before = models.JSONField(_("before"), default=dict)
    after = models.JSONField(_("after"), default=dict)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    actor = models.ForeignKey(
        Staff, verbose_name=_("by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    recompute = models.ForeignKey(
        ClockRecompute,
        verbose_name=_("recomputation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="item_limit_changes",
    )

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("time-limit change")
        verbose_name_plural = _("time-limit changes")

    def __str__(self) -> str:
        return f"{self.item_id}: {self.before} → {self.after}"
