"""Reads of classification and grading: the rule set versions, the runs, a taxpayer's history."""

from __future__ import annotations

from django.db.models import QuerySet

from taxservice.taxpayers.models import ClassificationRuleSet, ClassificationRun, TaxpayerGradeChange

MAX_ID = 2**63 - 1  # a bigint: a larger id is no row, not an error


def rule_set_active() -> ClassificationRuleSet | None:
    """The newest version: the one in force."""
    return ClassificationRuleSet.objects.select_related("created_by").order_by("-version").first()


def rule_set_list() -> QuerySet[ClassificationRuleSet]:
    return ClassificationRuleSet.objects.select_related("created_by").order_by("-version")


def rule_set_get(*, version: int) -> ClassificationRuleSet | None:
    return ClassificationRuleSet.objects.select_related("created_by").filter(version=version).first()


def classification_run_list(*, limit: int = 10) -> list[ClassificationRun]:
    return list(ClassificationRun.objects.select_related("rule_set", "requested_by").order_by("-id")[:limit])


def classification_run_get(*, run_id: int) -> ClassificationRun | None:
    if not 0 < run_id <= MAX_ID:
        return None
    return ClassificationRun.objects.select_related("rule_set", "requested_by").filter(pk=run_id).first()


def taxpayer_grade_history(*, taxpayer_id: int) -> QuerySet[TaxpayerGradeChange]:
    return TaxpayerGradeChange.objects.select_related("rule_set").filter(taxpayer_id=taxpayer_id).order_by("-at", "-id")
