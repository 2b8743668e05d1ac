"""Writes on taxpayers."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from taxservice import access
from taxservice.errors import InvalidInput
from taxservice.org.models import Branch, Staff
from taxservice.taxpayers.models import Taxpayer
from taxservice.taxpayers.validators import validate_credit_code


def taxpayer_register(
    *,
    actor: Staff,
    credit_code: str,
    name: str,
    competent_branch_code: str,
    classification: str = Taxpayer.Classification.SMALL_SCALE,
    grade: str = Taxpayer.Grade.B,
) -> Taxpayer:
    """Register a taxpayer. Raises InvalidInput naming every bad field; writes nothing then."""
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
    if "credit_code" not in errors and Taxpayer.objects.filter(credit_code=credit_code).exists():
        errors["credit_code"] = [_("A taxpayer with this credit code is already registered.")]
    if errors or branch is None:  # an unknown branch is among the errors
        raise InvalidInput(_("The taxpayer was not registered."), fields=errors)
    try:
        with transaction.atomic():
            return Taxpayer.objects.create(
                credit_code=credit_code,
                name=name,
                competent_branch=branch,
                classification=classification,
                grade=grade,
            )
    except IntegrityError:
        # Someone registered the same code between the check and the insert.
        raise InvalidInput(
            _("The taxpayer was not registered."),
            fields={"credit_code": [_("A taxpayer with this credit code is already registered.")]},
        ) from None
