"""Reading the change log. The caller has checked that the reader may see the object."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import QuerySet

from taxservice.changes.models import ChangeLog


@dataclass
class ObjectChanges:
    """The newest changes of one object, and how many there are in all."""

    rows: list[ChangeLog]
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.rows)


def change_list(*, content_type: ContentType | None = None, object_id: int | None = None) -> QuerySet[ChangeLog]:
    """Every change, newest first; of one type of object, or of one object."""
    qs = ChangeLog.objects.select_related("content_type").order_by("-at", "-id")
    if content_type is not None:
        qs = qs.filter(content_type=content_type)
    if object_id is not None:
        qs = qs.filter(object_id=object_id)
    return qs


def changes_for(obj: models.Model, *, limit: int = 10) -> ObjectChanges:
    """The newest `limit` changes of `obj`, with the total count (for a page's box)."""
    qs = change_list(content_type=ContentType.objects.get_for_model(obj, for_concrete_model=True), object_id=obj.pk)
    return ObjectChanges(rows=list(qs[:limit]), total=qs.count())


def changes_for_type(model: type[models.Model], *, limit: int = 10) -> ObjectChanges:
    """The newest `limit` changes of any object of `model` (for a list page's box)."""
    qs = change_list(content_type=ContentType.objects.get_for_model(model, for_concrete_model=True))
    return ObjectChanges(rows=list(qs[:limit]), total=qs.count())
