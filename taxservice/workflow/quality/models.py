"""The closing loop's records: the taxpayer's rating (好差评), return visits (回访), the
weekly quality-inspection sample (质检抽查) with its results, and rectifications (整改).

Ratings, return visits, sampled tasks, inspection results and the loop's log are
append-only: a rating is given once, a result is scored once, a correction is a new row
somewhere else (a return visit, a rectification). A rectification is tracked through a
real Task of the rectification item, so its state is the task's state.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from taxservice.audit import AppendOnly
from taxservice.org.models import Staff
from taxservice.workflow.cases.models import Case, Task

# The catalogue item of rectification tasks (created by this app's data migration).
RECTIFICATION_ITEM = "ZG001"

COMMENT_MAX_CHARS = 500
TEXT_MAX_CHARS = 2000


class RatingChannel(models.TextChoices):
    COUNTER = "counter", _("At the counter")
    API = "api", _("Through the API")


class Grade(models.TextChoices):
    """好差评: 4–5 good, 3 neutral, 1–2 bad."""

    GOOD = "good", _("Good 好评")
    NEUTRAL = "neutral", _("Neutral 中评")
    BAD = "bad", _("Bad 差评")


def grade_of(score: int) -> str:
    if score >= 4:
        return Grade.GOOD
    return Grade.NEUTRAL if score == 3 else Grade.BAD


class CaseRating(AppendOnly):
    """The taxpayer's rating of a case (问效): once per case, 1 to 5."""

    case = models.OneToOneField(Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="rating")
    score = models.PositiveSmallIntegerField(_("score"))
    comment = models.CharField(_("comment"), max_length=COMMENT_MAX_CHARS, blank=True)
    channel = models.CharField(_("entered"), max_length=16, choices=RatingChannel.choices)
    recorded_by = models.ForeignKey(Staff, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("case rating")
        verbose_name_plural = _("case ratings")
        constraints = [
            models.CheckConstraint(condition=Q(score__gte=1, score__lte=5), name="rating_score_1_to_5"),
        ]

    def __str__(self) -> str:
        return f"case {self.case_id}: {self.score}"

    @property
    def grade(self) -> str:
        return grade_of(self.score)

    def get_grade_display(self) -> str:
        return str(Grade(self.grade).label)


class VisitChannel(models.TextChoices):
    PHONE = "phone", _("Phone")
    SMS = "sms", _("Text message")
    ONLINE = "online", _("Online")
    IN_PERSON = "in_person", _("In person")


class ReturnVisit(AppendOnly):
    """A return visit (回访): the taxpayer asked afterwards how it went."""

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="return_visits")
    visited_at = models.DateTimeField(_("visited at"))
    visited_by = models.ForeignKey(Staff, verbose_name=_("visited by"), on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(_("channel"), max_length=16, choices=VisitChannel.choices)
    said = models.TextField(_("what the taxpayer said"), max_length=TEXT_MAX_CHARS)
    satisfied = models.BooleanField(_("satisfied"))
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        ordering = ["-visited_at", "-id"]
        verbose_name = _("return visit")
        verbose_name_plural = _("return visits")
        indexes = [models.Index(fields=["case", "visited_at"], name="return_visit_case_idx")]

    def __str__(self) -> str:
        return f"case {self.case_id} @ {self.visited_at:%Y-%m-%d}"


class Inspection(models.Model):
    """One week's quality-inspection sample: the tasks closed that week, drawn with a stored seed."""

    class State(models.TextChoices):
        OPEN = "open", _("Being scored")
        DONE = "done", _("Scored")

    week_start = models.DateField(_("week (Monday)"), unique=True)
    sample_size = models.PositiveSmallIntegerField(_("sample size asked"))
    seed = models.BigIntegerField(_("seed"))
    candidates = models.PositiveIntegerField(_("tasks closed that week"), default=0)
    drawn_by = models.ForeignKey(
        Staff,
        verbose_name=_("drawn by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty means the weekly schedule."),
    )
    drawn_at = models.DateTimeField(_("drawn at"), default=timezone.now)
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.OPEN)

    class Meta:
        ordering = ["-week_start"]
        verbose_name = _("quality inspection")
        verbose_name_plural = _("quality inspections")

    def __str__(self) -> str:
        return f"{self.week_start:%Y-%m-%d}"


class SampledTask(AppendOnly):
    """One task of an inspection's sample, in the order drawn."""

    inspection = models.ForeignKey(
        Inspection, verbose_name=_("inspection"), on_delete=models.PROTECT, related_name="sample"
    )
    task = models.ForeignKey(Task, verbose_name=_("task"), on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField(_("position"))

    class Meta:
        ordering = ["inspection", "position"]
        verbose_name = _("sampled task")
        verbose_name_plural = _("sampled tasks")
        constraints = [
            models.UniqueConstraint(fields=["inspection", "task"], name="sample_task_once"),
        ]

    def __str__(self) -> str:
        return f"{self.inspection_id}: T{self.task_id}"


class InspectionResult(AppendOnly):
    """The inspector's score of one sampled task: each check pass or fail, overall pass or fail."""

    sampled = models.OneToOneField(
        SampledTask, verbose_name=_("sampled task"), on_delete=models.PROTECT, related_name="result"
    )
    checks = models.JSONField(_("checks"), default=dict, help_text=_("Each check's code: passed (true) or not."))
    passed = models.BooleanField(_("passed"))
    findings = models.TextField(_("findings"), blank=True, max_length=TEXT_MAX_CHARS)
    inspector = models.ForeignKey(Staff, verbose_name=_("inspector"), on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("inspection result")
        verbose_name_plural = _("inspection results")
        constraints = [
            models.CheckConstraint(condition=Q(passed=True) | ~Q(findings=""), name="result_fail_has_findings"),
        ]

    def __str__(self) -> str:
        return f"{self.sampled_id}: {'pass' if self.passed else 'fail'}"


class Rectification(models.Model):
    """A rectification (整改) opened by a failed inspection result or a bad rating.

    Exactly one per cause: the one-to-one columns are unique in the database, so a retried
    or racing request cannot open a second. The work is `task`, a Task of the
    rectification item assigned to the responsible person; its state is the task's.
    """

    rating = models.OneToOneField(
        CaseRating,
        verbose_name=_("rating"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rectification",
    )
    inspection_result = models.OneToOneField(
        InspectionResult,
        verbose_name=_("inspection result"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rectification",
    )
    concerning = models.ForeignKey(
        Task,
        verbose_name=_("task concerned"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    task = models.OneToOneField(
        Task, verbose_name=_("rectification task"), on_delete=models.PROTECT, related_name="rectification"
    )
    responsible = models.ForeignKey(
        Staff, verbose_name=_("responsible"), on_delete=models.PROTECT, related_name="rectifications"
    )
    cause = models.TextField(_("cause"), max_length=TEXT_MAX_CHARS)
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name = _("rectification")
        verbose_name_plural = _("rectifications")
        constraints = [
            # Opened by exactly one thing: a rating or an inspection result.
            models.CheckConstraint(
                condition=Q(rating__isnull=True) ^ Q(inspection_result__isnull=True),
                name="rectification_one_source",
            ),
        ]

    def __str__(self) -> str:
        return f"R{self.pk} → T{self.task_id}"

    @property
    def source_kind(self) -> str:
        return "rating" if self.rating_id is not None else "inspection"

    @property
    def state(self) -> str:
        return self.task.state


class QualityLog(AppendOnly):
    """The loop's audit trail: one row per write (rating, visit, draw, result, rectification)."""

    action = models.CharField(_("action"), max_length=32)
    actor = models.ForeignKey(
        Staff,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty means the system (the weekly schedule)."),
    )
    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    inspection = models.ForeignKey(Inspection, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("quality log entry")
        verbose_name_plural = _("quality log")

    def __str__(self) -> str:
        return f"{self.action} @ {self.at:%Y-%m-%d %H:%M}"
