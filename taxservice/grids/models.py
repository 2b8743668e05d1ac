"""The territory of the grid safety net (网格兜底): district → street or township → grid,
each grid with its service group, and the 就近办 service points that serve the grids.

Taxpayers belong to one grid (`taxpayers.Taxpayer.grid`, with its history); a grid's
service group is a `Team` of kind `grid`, whose members are the grid staff.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from taxservice.org.models import Branch, Staff, Team


class Area(models.Model):
    """A district or a street/township: the places grids are drawn in."""

    class Level(models.TextChoices):
        DISTRICT = "district", _("District")
        STREET = "street", _("Street or township")

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("area")
        verbose_name_plural = _("areas")

    def __str__(self) -> str:
        return self.name


class Grid(models.Model):
    """A grid (网格): a street's share of taxpayers, looked after by its service group."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    area = models.ForeignKey(
        Area,
        verbose_name=_("street or township"),
        on_delete=models.PROTECT,
        related_name="grids",
        limit_choices_to={"level": Area.Level.STREET},
    )
    branch = models.ForeignKey(
        Branch,
        verbose_name=_("tax-source branch"),
        on_delete=models.PROTECT,
        related_name="grids",
        help_text=_("The branch whose territory the grid is part of."),
    )
    team = models.OneToOneField(
        Team,
        verbose_name=_("service group"),
        on_delete=models.PROTECT,
        related_name="grid",
        limit_choices_to={"kind": Team.Kind.GRID},
        help_text=_("The grid staff: a team of the grid kind."),
    )
    leader = models.ForeignKey(
        Staff, verbose_name=_("leader"), null=True, blank=True, on_delete=models.PROTECT, related_name="led_grids"
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("grid")
        verbose_name_plural = _("grids")

    def __str__(self) -> str:
        return self.name


class ServicePoint(models.Model):
    """A 便民办税服务点 where taxpayers get things done nearby (就近办)."""

    class Partner(models.TextChoices):
        TOWNSHIP_CENTRE = "township_centre", _("Township service centre")
        VILLAGE = "village", _("Village or community")
        BANK = "bank", _("Bank")
        POST_OFFICE = "post_office", _("Post office")
        PARK = "park", _("Industrial park")
        OTHER = "other", _("Other")

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    address = models.CharField(_("address"), max_length=200)
    partner = models.CharField(_("partner"), max_length=24, choices=Partner.choices)
    grids = models.ManyToManyField(Grid, verbose_name=_("grids served"), related_name="service_points", blank=True)
    branch = models.ForeignKey(
        Branch,
        verbose_name=_("responsible branch"),
        on_delete=models.PROTECT,
        related_name="service_points",
        help_text=_("The tax-source branch or hall the point reports to."),
    )
    opening_hours = models.CharField(_("opening hours"), max_length=100, blank=True)
    contact = models.CharField(_("contact"), max_length=100, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("service point")
        verbose_name_plural = _("service points")

    def __str__(self) -> str:
        return self.name


class GridRule(models.Model):
    """Assign taxpayers to a grid by where they are: their address names a street or district
    (`area`), and/or contains a text (`address_contains`). Rules apply in order (priority,
    then id); a taxpayer takes the grid of the first rule that matches it."""

    priority = models.PositiveSmallIntegerField(_("priority"), default=100)
    area = models.ForeignKey(
        Area,
        verbose_name=_("district or street"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="grid_rules",
        help_text=_("Matches taxpayers whose address contains the area's name."),
    )
    address_contains = models.CharField(_("address contains"), max_length=100, blank=True)
    competent_branch = models.ForeignKey(
        Branch,
        verbose_name=_("competent branch"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty: any branch."),
    )
    grid = models.ForeignKey(Grid, verbose_name=_("grid"), on_delete=models.PROTECT, related_name="rules")
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["priority", "id"]
        verbose_name = _("grid rule")
        verbose_name_plural = _("grid rules")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(area__isnull=False) | ~models.Q(address_contains=""),
                name="grid_rule_matches_something",
            )
        ]

    def __str__(self) -> str:
        return f"{self.priority} → {self.grid_id}"


class GridRuleRun(models.Model):
    """One run of the grid rules over the taxpayers: who, when, and what each rule did."""

    class Scope(models.TextChoices):
        UNASSIGNED = "unassigned", _("Taxpayers without a grid")
        ALL = "all", _("Every matching taxpayer")

    started_by = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    scope = models.CharField(_("scope"), max_length=16, choices=Scope.choices, default=Scope.UNASSIGNED)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    total_rules = models.PositiveIntegerField(_("rules"), default=0)
    processed_rules = models.PositiveIntegerField(_("rules applied"), default=0)
    changed = models.PositiveIntegerField(_("taxpayers moved"), default=0)
    per_rule = models.JSONField(_("taxpayers moved per rule"), default=dict)
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("grid rule run")
        verbose_name_plural = _("grid rule runs")

    def __str__(self) -> str:
        return f"#{self.pk}"


class GridImport(models.Model):
    """An import of grid assignments (credit code → grid code) from a CSV or XLSX file:
    checked row by row, then written all or nothing."""

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting")
        VALIDATING = "validating", _("Checking")
        IMPORTING = "importing", _("Importing")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    uploaded_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    filename = models.CharField(_("file"), max_length=200)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.PENDING)
    rows = models.JSONField(_("rows"), default=list, help_text=_("The parsed rows, cleared once imported."))
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("rows processed"), default=0)
    changed_count = models.PositiveIntegerField(_("taxpayers moved"), default=0)
    unchanged_count = models.PositiveIntegerField(_("already in that grid"), default=0)
    errors = models.JSONField(_("errors"), default=list, help_text=_("[{row, field, message}]"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("grid import")
        verbose_name_plural = _("grid imports")

    def __str__(self) -> str:
        return f"#{self.pk} {self.filename}"
