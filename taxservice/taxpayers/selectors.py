"""Reads of taxpayers."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from taxservice.taxpayers.models import Taxpayer
from taxservice.taxpayers.validators import normalise_credit_code


def taxpayer_search(*, query: str) -> QuerySet[Taxpayer]:
    """Taxpayers whose credit code starts with `query`, or whose name contains it.

    The one taxpayer search, for the front desk's consultation, the case list and
    `GET /api/v1/taxpayers/?q=`. Credit codes are stored in their canonical form
    (统一社会信用代码: half-width digits and capitals), so the code is compared in that form
    (`normalise_credit_code`: spaces removed, full-width made half-width, upper-cased),
    which keeps the prefix search on the code's index; the name matches, ignoring case,
    anywhere in it, as typed. Surrounding spaces are ignored; an empty query finds every
    taxpayer. Ordered by credit code.
    """
    query = query.strip()
    qs = Taxpayer.objects.select_related("competent_branch").order_by("credit_code")
    if query:
        qs = qs.filter(Q(credit_code__startswith=normalise_credit_code(query)) | Q(name__icontains=query))
    return qs
