"""The territory of the grid safety net (网格兜底): district → street or township → grid,
each grid with its service group, and the 就近办 service points that serve the grids.

Taxpayers belong to one grid (`taxpayers.Taxpayer.grid`, with its history); a grid's
service group is a `Team` of kind `grid`, whose members are the grid staff.
"""

from __future__ import annotations

from django.db import models
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
