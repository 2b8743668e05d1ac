"""Reads of taxpayers by grid: a grid's taxpayers and their grades, a taxpayer's grid history,
and the selections coordinators make grid tasks for."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import Count, QuerySet

from taxservice.taxpayers.models import Taxpayer, TaxpayerGridChange
from taxservice.taxpayers.validators import normalise_credit_code

# Selections grid tasks are made for are checked against this before any work.
MAX_SELECTION = 5_000


def grade_field() -> str:
    """The grade a grid works by: the computed service grade (分级, A–D) where the
    classification exists, the credit grade (A, B, M, C, D) before it."""
    names = {field.name for field in Taxpayer._meta.get_fields()}
    return "service_grade" if "service_grade" in names else "grade"


def grade_choices() -> list[tuple[str, str]]:
    field = Taxpayer._meta.get_field(grade_field())
    return [(str(value), str(label)) for value, label in getattr(field, "choices", None) or []]


def grade_of(taxpayer: Taxpayer) -> str:
    return getattr(taxpayer, grade_field()) or ""


def grid_grade_counts(*, grid_id: int) -> list[tuple[str, str, int]]:
    """(grade, label, count) for every grade, the grid's taxpayers counted in one query;
    an unclassified taxpayer counts under "" (labelled "—")."""
    field = grade_field()
    counts = dict(
        Taxpayer.objects.filter(grid_id=grid_id).values_list(field).annotate(n=Count("pk")).values_list(field, "n")
    )
    rows = [(value, str(label), counts.pop(value, 0)) for value, label in grade_choices()]
    rest = sum(counts.values())
    if rest:
        rows.append(("", "—", rest))
    return rows


def grid_taxpayers(*, grid_id: int, grades: Sequence[str] = ()) -> QuerySet[Taxpayer]:
    qs = Taxpayer.objects.filter(grid_id=grid_id).select_related("competent_branch").order_by("credit_code")
    return qs.filter(**{f"{grade_field()}__in": list(grades)}) if grades else qs


def taxpayer_get(*, credit_code: str) -> Taxpayer | None:
    return (
        Taxpayer.objects.select_related("competent_branch", "grid__area", "grid__team", "grid__leader")
        .filter(credit_code=normalise_credit_code(credit_code))
        .first()
    )


def taxpayer_grid_history(*, taxpayer_id: int, limit: int = 50) -> list[TaxpayerGridChange]:
    return list(
        TaxpayerGridChange.objects.filter(taxpayer_id=taxpayer_id)
        .select_related("before", "after", "actor")
        .order_by("-at", "-id")[:limit]
    )


def taxpayer_grade_history(*, taxpayer_id: int, limit: int = 50) -> list | None:
    """The taxpayer's grade changes, newest first, where the classification keeps them
    (`grade_changes`); None where it does not exist yet."""
    relation = getattr(Taxpayer, "grade_changes", None)
    if relation is None:
        return None
    model = relation.rel.related_model
    return list(model.objects.filter(taxpayer_id=taxpayer_id).order_by("-at", "-id")[:limit])


def grid_selection(
    *,
    grid_id: int,
    grades: Sequence[str] = (),
    classifications: Sequence[str] = (),
    credit_codes: Sequence[str] = (),
) -> QuerySet[Taxpayer]:
    """The grid's taxpayers narrowed by grade, classification and an explicit list of codes
    (each filter left empty matches every taxpayer of the grid)."""
    qs = grid_taxpayers(grid_id=grid_id, grades=grades)
    if classifications:
        qs = qs.filter(classification__in=list(classifications))
    if credit_codes:
        qs = qs.filter(credit_code__in=[normalise_credit_code(code) for code in credit_codes])
    return qs


def codes_outside_grid(*, grid_id: int, credit_codes: Sequence[str]) -> list[str]:
    """The codes of the list that name no taxpayer of the grid, as given, in their order."""
    wanted = {normalise_credit_code(code): code for code in credit_codes}
    inside = set(
        Taxpayer.objects.filter(grid_id=grid_id, credit_code__in=list(wanted)).values_list("credit_code", flat=True)
    )
    return [given for code, given in wanted.items() if code not in inside]
