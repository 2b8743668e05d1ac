"""就近办 work away from the halls: door-to-door visits (上门办) and materials collected on
behalf of the taxpayer at a service point (代收办), each with an append-only log.

The states change only through `taxservice.workflow.nearby.services`, which locks the
row, checks who may, changes the state and writes the log row in one transaction.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from taxservice.audit import AppendOnly
from taxservice.grids.models import Grid, ServicePoint
from taxservice.org.models import Staff, Team
from taxservice.taxpayers.models import Taxpayer
from taxservice.workflow.cases.models import Case, Task


class Visit(models.Model):
    """A door-to-door visit (上门办): scheduled for a day, then done (its outcome recorded) or cancelled."""

    class State(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    taxpayer = models.ForeignKey(Taxpayer, verbose_name=_("taxpayer"), on_delete=models.PROTECT, related_name="visits")
    grid = models.ForeignKey(
        Grid,
        verbose_name=_("grid"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="visits",
        help_text=_("The taxpayer's grid when the visit was scheduled."),
    )
    scheduled_for = models.DateField(_("scheduled for"))
    staff = models.ForeignKey(
        Staff, verbose_name=_("visiting staff"), on_delete=models.PROTECT, related_name="visits_to_make"
    )
    address = models.CharField(_("address"), max_length=200)
    purpose = models.CharField(_("purpose"), max_length=200)
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.SCHEDULED)
    outcome = models.TextField(_("outcome"), blank=True)
    recorded_by = models.ForeignKey(
        Staff, verbose_name=_("recorded by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(_("done or cancelled at"), null=True, blank=True)
    created_by = models.ForeignKey(Staff, verbose_name=_("scheduled by"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["-scheduled_for", "-id"]
        verbose_name = _("door-to-door visit")
        verbose_name_plural = _("door-to-door visits")
        indexes = [
            models.Index(fields=["staff", "state", "scheduled_for"], name="visit_staff_idx"),
            models.Index(fields=["grid", "state", "scheduled_for"], name="visit_grid_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(state="done") | ~Q(outcome=""),
                name="visit_done_has_outcome",
            ),
        ]

    def __str__(self) -> str:
        return f"visit #{self.pk} {self.taxpayer.name} {self.scheduled_for}"


class VisitEvent(AppendOnly):
    """One row per change of a visit: scheduled, recorded (done), cancelled."""

    visit = models.ForeignKey(Visit, verbose_name=_("visit"), on_delete=models.PROTECT, related_name="events")
    action = models.CharField(_("action"), max_length=16)
    from_state = models.CharField(_("from state"), max_length=12, choices=Visit.State.choices, blank=True)
    to_state = models.CharField(_("to state"), max_length=12, choices=Visit.State.choices)
    actor = models.ForeignKey(Staff, verbose_name=_("actor"), on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("at"), default=timezone.now)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("visit event")
        verbose_name_plural = _("visit events")

    def __str__(self) -> str:
        return f"visit {self.visit_id}: {self.action}"


class Collection(models.Model):
    """Materials collected on the taxpayer's behalf at a service point (代收办), on their
    way to the team that handles the case: collected → handed over → received → returned."""

    class State(models.TextChoices):
        COLLECTED = "collected", _("Collected at the point")
        HANDED_OVER = "handed_over", _("Handed over")
        RECEIVED = "received", _("Received by the team")
        RETURNED = "returned", _("Returned")

    service_point = models.ForeignKey(
        ServicePoint, verbose_name=_("service point"), on_delete=models.PROTECT, related_name="collections"
    )
    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="collections")
    task = models.ForeignKey(
        Task, verbose_name=_("task"), null=True, blank=True, on_delete=models.PROTECT, related_name="collections"
    )
    team = models.ForeignKey(
        Team,
        verbose_name=_("handling team"),
        on_delete=models.PROTECT,
        related_name="collections",
        help_text=_("The team the materials go to; its members mark them received and returned."),
    )
    materials = models.TextField(_("materials"))
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.COLLECTED)
    created_by = models.ForeignKey(Staff, verbose_name=_("collected by"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("collected at"), default=timezone.now)
    updated_at = models.DateTimeField(_("last step at"), default=timezone.now)

    class Meta:
        ordering = ["-updated_at", "-id"]
        verbose_name = _("collected materials")
        verbose_name_plural = _("collected materials")
        indexes = [models.Index(fields=["team", "state"], name="collection_team_idx")]

    def __str__(self) -> str:
        return f"collection #{self.pk} (case {self.case_id})"


class CollectionStep(AppendOnly):
    """One row per step of collected materials, with who, when and a note."""

    collection = models.ForeignKey(
        Collection, verbose_name=_("collection"), on_delete=models.PROTECT, related_name="steps"
    )
    step = models.CharField(_("step"), max_length=16)
    from_state = models.CharField(_("from state"), max_length=12, choices=Collection.State.choices, blank=True)
    to_state = models.CharField(_("to state"), max_length=12, choices=Collection.State.choices)
    actor = models.ForeignKey(Staff, verbose_name=_("actor"), on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("at"), default=timezone.now)
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("collection step")
        verbose_name_plural = _("collection steps")

    def __str__(self) -> str:
        return f"collection {self.collection_id}: {self.step}"
