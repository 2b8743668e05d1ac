"""Pagination that stays fast on deep pages of large lists.

Django's paginator slices the whole query: `OFFSET n` then runs every join and
`select_related` for the n skipped rows too. On the hub's million-task queue that made
page 10,000 take 2.7 s (bench/hub_queue.py). `IdFirstPaginator` first pages through the
ids alone, which the list's own index serves, then loads just that page's rows with
their related objects and puts them back in order.
"""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from rest_framework.pagination import PageNumberPagination


class IdFirstPaginator(Paginator):
    def page(self, number) -> Page:  # Django's signature
        qs = self.object_list
        if not _pageable_by_id(qs):
            return super().page(number)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        ids = list(qs.values_list("pk", flat=True)[bottom:top])
        rows = {obj.pk: obj for obj in qs.filter(pk__in=ids)} if ids else {}
        return self._get_page([rows[pk] for pk in ids if pk in rows], number, self)


def _pageable_by_id(qs) -> bool:
    """A plain ordered queryset: not a union, not DISTINCT, not grouped, not already sliced."""
    if not isinstance(qs, QuerySet):
        return False
    query = qs.query
    return query.combinator is None and not query.distinct and query.group_by is None and query.can_filter()


class IdFirstPageNumberPagination(PageNumberPagination):
    """The API's pagination (settings REST_FRAMEWORK): DRF's page numbers over IdFirstPaginator."""

    django_paginator_class = IdFirstPaginator
