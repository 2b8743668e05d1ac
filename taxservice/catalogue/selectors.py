"""Reads of the item catalogue (事项清单)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from taxservice.catalogue.models import Item


def item_search(*, query: str) -> QuerySet[Item]:
    """Active items whose code starts with `query`, or whose name contains it.

    The one item search, for the front desk's item picker and
    `GET /api/v1/catalogue/items/?q=`. Both parts ignore case. The code is matched as a
    prefix, not anywhere in it: "A0" finds A001…A099, and a digit typed alone does not
    find every code that happens to contain it. Surrounding spaces are ignored; an empty
    query finds every active item. Ordered by code.
    """
    query = query.strip()
    qs = Item.objects.filter(active=True).order_by("code")
    if query:
        qs = qs.filter(Q(code__istartswith=query) | Q(name__icontains=query))
    return qs
