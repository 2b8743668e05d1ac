"""Taxpayers. There is no fixed officer: nobody owns a taxpayer (docs/domain.md §2)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from taxservice.audit import AppendOnly
from taxservice.org.models import Branch, Staff
from taxservice.taxpayers.validators import validate_credit_code


class Taxpayer(models.Model):
    class Classification(models.TextChoices):
        GENERAL_VAT = "general_vat", _("General VAT taxpayer")
        SMALL_SCALE = "small_scale", _("Small-scale taxpayer")
        INDIVIDUAL_BUSINESS = "individual_business", _("Individual business")
        NON_PROFIT = "non_profit", _("Non-profit organisation")
        OTHER = "other", _("Other")

    class Grade(models.TextChoices):
        # Tax credit grades (纳税信用等级).
        A = "A", "A"
        B = "B", "B"
        M = "M", "M"
        C = "C", "C"
        D = "D", "D"

    credit_code = models.CharField(
        _("unified social credit code"), max_length=18, unique=True, validators=[validate_credit_code]
    )
    name = models.CharField(_("name"), max_length=200, db_index=True)
    competent_branch = models.ForeignKey(
        Branch, verbose_name=_("competent branch"), on_delete=models.PROTECT, related_name="taxpayers"
    )
    classification = models.CharField(
        _("classification"), max_length=24, choices=Classification.choices, default=Classification.SMALL_SCALE
    )
    grade = models.CharField(_("grade"), max_length=1, choices=Grade.choices, default=Grade.B)
    address = models.CharField(_("address"), max_length=200, blank=True)
    # The grid that looks after the taxpayer (网格); changed only through
    # taxpayers.services (by rule, import or hand), each change a TaxpayerGridChange row.
    grid = models.ForeignKey(
        "grids.Grid",
        verbose_name=_("grid"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="taxpayers",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["credit_code"]
        verbose_name = _("taxpayer")
        verbose_name_plural = _("taxpayers")

    def __str__(self) -> str:
        return f"{self.name} ({self.credit_code})"


class TaxpayerGridChange(AppendOnly):
    """The history of a taxpayer's grid: one row per change, with how and by whom."""

    class Method(models.TextChoices):
        RULE = "rule", _("By rule")
        IMPORT = "import", _("By import")
        HAND = "hand", _("By hand")

    taxpayer = models.ForeignKey(
        Taxpayer, verbose_name=_("taxpayer"), on_delete=models.PROTECT, related_name="grid_changes"
    )
    before = models.ForeignKey(
        "grids.Grid", verbose_name=_("grid before"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    after = models.ForeignKey(
        "grids.Grid", verbose_name=_("grid after"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    method = models.CharField(_("how"), max_length=8, choices=Method.choices)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    batch = models.CharField(_("import or rule run"), max_length=64, blank=True)
    actor = models.ForeignKey(
        Staff, verbose_name=_("by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("grid change")
        verbose_name_plural = _("grid changes")
        indexes = [models.Index(fields=["taxpayer", "at"], name="grid_change_taxpayer_idx")]

    def __str__(self) -> str:
        return f"{self.taxpayer_id}: {self.before_id} → {self.after_id}"
