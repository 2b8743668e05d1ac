"""Writes on taxpayers."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from taxservice import access
from taxservice.changes.services import Action, record_change, snapshot
from taxservice.errors import InvalidInput
from taxservice.org.models import Branch, Staff
from taxservice.taxpayers.classification import INDUSTRY_CODE
from taxservice.taxpayers.classification_services import taxpayer_grade_new
from taxservice.taxpayers.models import Kind, RiskLevel, Scale, Taxpayer
from taxservice.taxpayers.validators import validate_credit_code


def taxpayer_register(
    *,
    actor: Staff,
    credit_code: str,
    name: str,
    competent_branch_code: str,
    classification: str = Taxpayer.Classification.SMALL_SCALE,
    grade: str = Taxpayer.Grade.B,
    kind: str = Kind.ENTERPRISE,
    industry: str = "",
    scale: str = Scale.SMALL,
    risk_level: str = RiskLevel.LOW,
) -> Taxpayer:
    """Register a taxpayer, with its category and service grade from the newest
    classification rules. Raises InvalidInput naming every bad field; writes nothing then."""
    access.require(access.can_register_taxpayer, actor)
    errors: dict[str, list[str]] = {}
    try:
        validate_credit_code(credit_code)
    except ValidationError as exc:
        errors["credit_code"] = list(exc.messages)
    name = (name or "").strip()
    if not name:
        errors["name"] = [_("A name is required.")]
    branch = Branch.objects.filter(code=competent_branch_code, kind=Branch.Kind.SOURCE).first()
    if branch is None:
        errors["competent_branch"] = [
            _("No tax-source branch has the code “%(code)s”.") % {"code": competent_branch_code}
        ]
    if classification not in Taxpayer.Classification.values:
        errors["classification"] = [_("Unknown classification “%(value)s”.") % {"value": classification}]
    if grade not in Taxpayer.Grade.values:
        errors["grade"] = [_("Unknown grade “%(value)s”.") % {"value": grade}]
    for field, value, choices in (("kind", kind, Kind), ("scale", scale, Scale), ("risk_level", risk_level, RiskLevel)):
        if value not in choices.values:
            errors[field] = [_("Unknown value “%(value)s”.") % {"value": value}]
    industry = (industry or "").strip().upper()
    if industry and not INDUSTRY_CODE.match(industry):
        errors["industry"] = [_("An industry code is 1 to 8 letters or digits.")]
    if "credit_code" not in errors and Taxpayer.objects.filter(credit_code=credit_code).exists():
        errors["credit_code"] = [_("A taxpayer with this credit code is already registered.")]
    if errors or branch is None:  # an unknown branch is among the errors
        raise InvalidInput(_("The taxpayer was not registered."), fields=errors)
    try:
        with transaction.atomic():
            taxpayer = Taxpayer.objects.create(
                credit_code=credit_code,
                name=name,
                competent_branch=branch,
                classification=classification,
                grade=grade,
                kind=kind,
                industry=industry,
                scale=scale,
                risk_level=risk_level,
            )
            taxpayer_grade_new(taxpayer=taxpayer)
            record_change(actor=actor, obj=taxpayer, action=Action.CREATED, before={}, after=snapshot(taxpayer))
            return taxpayer
    except IntegrityError:
        # Someone registered the same code between the check and the insert.
        raise InvalidInput(
            _("The taxpayer was not registered."),
            fields={"credit_code": [_("A taxpayer with this credit code is already registered.")]},
        ) from None
