"""The base of every audit record: written once, never changed."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models


class AppendOnly(models.Model):
    """A record that is written once: saving an existing row or deleting one raises.
    (A queryset's `update()` and `delete()` bypass this, as they bypass every model method.)"""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not self._state.adding:
            raise ValidationError(f"{self._meta.verbose_name} rows are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(f"{self._meta.verbose_name} rows are append-only.")
