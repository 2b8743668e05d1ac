"""Taxpayers. There is no fixed officer: nobody owns a taxpayer (docs/domain.md §2)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from taxservice.org.models import Branch
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
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["credit_code"]
        verbose_name = _("taxpayer")
        verbose_name_plural = _("taxpayers")

    def __str__(self) -> str:
        return f"{self.name} ({self.credit_code})"
