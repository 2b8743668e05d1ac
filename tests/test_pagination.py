"""taxservice.pagination: pages by id first, with the same rows, order and related objects."""

from __future__ import annotations

import pytest
from django.core.paginator import Paginator
from django.db.models import Count

from taxservice.pagination import IdFirstPaginator
from taxservice.workflow.cases.models import Task
from taxservice.workflow.routing import services
from tests.factories import ItemFactory, TaxpayerFactory


@pytest.fixture
def tasks(org):
    item = ItemFactory(code="P001")
    return [
        services.task_intake(
            actor=org.integrator, source="business", taxpayer=TaxpayerFactory().credit_code, item=item.code
        )[0]
        for _ in range(7)
    ]


def test_every_page_has_the_rows_of_the_plain_paginator_in_the_same_order(tasks, django_assert_num_queries):
    qs = Task.objects.select_related("item", "taxpayer").order_by("-created_at", "-id")
    plain, fast = Paginator(qs, 3), IdFirstPaginator(qs, 3)
    assert fast.num_pages == plain.num_pages == 3
    for number in fast.page_range:
        assert [t.pk for t in fast.page(number)] == [t.pk for t in plain.page(number)]
    page = fast.page(2)
    with django_assert_num_queries(0):  # select_related survived the second query
        assert all(t.item.code == "P001" and t.taxpayer.credit_code for t in page)


def test_a_grouped_queryset_falls_back_to_plain_slicing(tasks):
    grouped = Task.objects.values("source").annotate(n=Count("id")).order_by("source")
    assert list(IdFirstPaginator(grouped, 10).page(1)) == [{"source": "business", "n": 7}]
    assert list(IdFirstPaginator([1, 2, 3], 2).page(2)) == [3]
