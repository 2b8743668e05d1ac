"""Taxpayers. There is no fixed officer: nobody owns a taxpayer (docs/domain.md §2).

Classification and grading (分类分级, docs/grid.md): a taxpayer's data (`kind`, `industry`,
`scale`, `risk_level` and the credit `grade`) decide, through the newest
ClassificationRuleSet, its `category` and its `service_grade`; both are written only by
taxservice.taxpayers.classification_services (registration and the bulk ClassificationRun),
each change a TaxpayerGradeChange row.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from taxservice.audit import AppendOnly
from taxservice.org.models import Branch, Staff
from taxservice.taxpayers.validators import validate_credit_code


class Kind(models.TextChoices):
    ENTERPRISE = "enterprise", _("Enterprise")
    INDIVIDUAL_BUSINESS = "individual_business", _("Individual business")
    NATURAL_PERSON = "natural_person", _("Natural person")


class Scale(models.TextChoices):
    LARGE = "large", _("Large")
    MEDIUM = "medium", _("Medium")
    SMALL = "small", _("Small")
    MICRO = "micro", _("Micro")


class RiskLevel(models.TextChoices):
    LOW = "low", _("Low risk")
    MEDIUM = "medium", _("Medium risk")
    HIGH = "high", _("High risk")


class Category(models.TextChoices):
    """The classification the rules give (分类)."""

    KEY_ENTERPRISE = "key_enterprise", _("Key enterprise")
    ORDINARY_ENTERPRISE = "ordinary_enterprise", _("Ordinary enterprise")
    SMALL_MICRO_ENTERPRISE = "small_micro_enterprise", _("Small or micro enterprise")
    INDIVIDUAL_BUSINESS = "individual_business", _("Individual business")
    NATURAL_PERSON = "natural_person", _("Natural person")


class ServiceGrade(models.TextChoices):
    """The service grade the rules give (分级): how much attention the grid gives the taxpayer."""

    A = "A", _("A: trusted, self-service")
    B = "B", _("B: routine service")
    C = "C", _("C: closer attention")
    D = "D", _("D: priority attention")


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
    # The data the classification rules read (分类分级).
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices, default=Kind.ENTERPRISE)
    industry = models.CharField(
        _("industry"), max_length=8, blank=True, help_text=_("A short industry code, e.g. the GB/T 4754 section: C.")
    )
    scale = models.CharField(_("scale"), max_length=8, choices=Scale.choices, default=Scale.SMALL)
    risk_level = models.CharField(_("risk level"), max_length=8, choices=RiskLevel.choices, default=RiskLevel.LOW)
    # What the newest rule set gives; empty until the taxpayer is first classified.
    category = models.CharField(_("category"), max_length=24, choices=Category.choices, blank=True)
    service_grade = models.CharField(_("service grade"), max_length=1, choices=ServiceGrade.choices, blank=True)
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


class ClassificationRuleSet(AppendOnly):
    """One version of the classification rules. The newest version is the active one; an
    edit (or going back to an older version) writes a new version, with who, why and when.

    `category_rules` and `grade_rules` are ordered lists of rows (first match wins), each
    `{"when": {"kind": [...], "industry": [...], "scale": [...], "risk": [...],
    "credit": [...]}, "then": "<category or grade>"}`; a condition that is absent or empty
    matches anything; no row matching gives the default. Validated by
    taxservice.taxpayers.classification.parse_rules before it is saved."""

    version = models.PositiveIntegerField(_("version"), unique=True)
    category_rules = models.JSONField(_("category rules"), default=list)
    default_category = models.CharField(_("default category"), max_length=24, choices=Category.choices)
    grade_rules = models.JSONField(_("grade rules"), default=list)
    default_grade = models.CharField(_("default service grade"), max_length=1, choices=ServiceGrade.choices)
    reason = models.CharField(_("reason"), max_length=500)
    created_by = models.ForeignKey(
        Staff, verbose_name=_("by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        ordering = ["-version"]
        verbose_name = _("classification rule set")
        verbose_name_plural = _("classification rule sets")

    def __str__(self) -> str:
        return f"v{self.version}"


class ClassificationRun(models.Model):
    """One recomputation of every taxpayer's category and service grade with one rule set
    version: its cause, its progress (the page's progress bar) and its end. A run whose
    version is no longer the newest when it reaches its next chunk stops as superseded
    (the newer version's run does the work)."""

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        SUPERSEDED = "superseded", _("Superseded by a newer version")
        FAILED = "failed", _("Failed")

    cause = models.CharField(_("cause"), max_length=500)
    rule_set = models.ForeignKey(
        ClassificationRuleSet, verbose_name=_("rule set"), on_delete=models.PROTECT, related_name="runs"
    )
    requested_by = models.ForeignKey(
        Staff, verbose_name=_("requested by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.PENDING)
    total = models.PositiveIntegerField(_("taxpayers"), default=0)
    done = models.PositiveIntegerField(_("taxpayers checked"), default=0)
    changed = models.PositiveIntegerField(_("taxpayers changed"), default=0)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("requested at"), default=timezone.now)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("classification run")
        verbose_name_plural = _("classification runs")

    def __str__(self) -> str:
        return f"{self.cause} ({self.state})"

    @property
    def finished(self) -> bool:
        return self.state not in (self.State.PENDING, self.State.RUNNING)

    @property
    def percent(self) -> int:
        if self.state == self.State.DONE:
            return 100
        return min(100, int(100 * self.done / self.total)) if self.total else 0


class TaxpayerGradeChange(AppendOnly):
    """The history of a taxpayer's category and service grade: one row per change, with
    the rule set version that gave it and the run (none at registration)."""

    taxpayer = models.ForeignKey(
        Taxpayer, verbose_name=_("taxpayer"), on_delete=models.PROTECT, related_name="grade_changes"
    )
    before_category = models.CharField(_("category before"), max_length=24, blank=True)
    after_category = models.CharField(_("category after"), max_length=24, blank=True)
    before_grade = models.CharField(_("service grade before"), max_length=1, blank=True)
    after_grade = models.CharField(_("service grade after"), max_length=1, blank=True)
    # Not indexed: nothing reads the history by version (a run's rows are found by `run`).
    rule_set = models.ForeignKey(
        ClassificationRuleSet, verbose_name=_("rule set"), on_delete=models.PROTECT, related_name="+", db_index=False
    )
    run = models.ForeignKey(
        ClassificationRun, verbose_name=_("run"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("grade change")
        verbose_name_plural = _("grade changes")
        indexes = [models.Index(fields=["taxpayer", "at"], name="grade_change_taxpayer_idx")]

    def __str__(self) -> str:
        return f"{self.taxpayer_id}: {self.before_grade or '-'} → {self.after_grade}"
