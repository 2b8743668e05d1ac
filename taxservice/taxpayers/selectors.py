"""Reads of taxpayers."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from taxservice.taxpayers.models import Taxpayer


def taxpayer_search(*, query: str) -> QuerySet[Taxpayer]:
    """Taxpayers whose credit code starts with `query`, or whose name contains it.

    The one taxpayer search, for the front desk's consultation, the case list and
    `GET /api/v1/taxpayers/?q=`. Both parts ignore case: credit codes are stored in
    capitals (统一社会信用代码), so the code is compared upper-cased, which keeps the prefix
    search on the code's index; the name matches anywhere in it. Surrounding spaces are
    ignored; an empty query finds every taxpayer. Ordered by credit code.
    """
    query = query.strip()
    qs = Taxpayer.objects.select_related("competent_branch").order_by("credit_code")
    if query:
        qs = qs.filter(Q(credit_code__startswith=query.upper()) | Q(name__icontains=query))
    return qs
