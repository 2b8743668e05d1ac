"""One generic, append-only change log: who changed what on which object, and how."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from taxservice.audit import AppendOnly
from taxservice.org.models import Staff


class ChangeLog(AppendOnly):
    """One row per change of one object: the fields that changed, before and after.

    The object is named by content type and id (no foreign key: the row outlives the
    object), with its label as it was; the actor likewise keeps the name it had."""

    class Action(models.TextChoices):
        CREATED = "created", _("Created")
        CHANGED = "changed", _("Changed")
        DELETED = "deleted", _("Deleted")
        DUTY = "duty", _("Duty changed")
        PAUSED = "paused", _("Paused")
        RESUMED = "resumed", _("Resumed")

    content_type = models.ForeignKey(
        ContentType, verbose_name=_("object type"), on_delete=models.PROTECT, related_name="+"
    )
    object_id = models.PositiveBigIntegerField(_("object id"))
    object_label = models.CharField(_("object"), max_length=200)
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    changes = models.JSONField(
        _("changes"),
        encoder=DjangoJSONEncoder,
        default=dict,
        help_text=_("Only the fields that changed: {field: [before, after]}."),
    )
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    actor = models.ForeignKey(
        Staff,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty means the system, or an administrator without a staff record (see the name)."),
    )
    actor_name = models.CharField(_("actor's name"), max_length=150, blank=True)
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("change")
        verbose_name_plural = _("change log")
        indexes = [models.Index(fields=["content_type", "object_id", "-at"], name="changelog_object_idx")]

    def __str__(self) -> str:
        return f"{self.object_label}: {self.action}"

    def fields(self) -> list[tuple[str, object, object]]:
        """(label, before, after) per changed field, labelled with the model's field names
        where the model still has the field."""
        model = self.content_type.model_class()
        rows = []
        for name, values in (self.changes or {}).items():
            before, after = (list(values) + [None, None])[:2] if isinstance(values, list) else (None, values)
            label: object = name
            if model is not None:
                try:
                    label = model._meta.get_field(name).verbose_name
                except FieldDoesNotExist:
                    pass
            rows.append((str(label), _shown(before), _shown(after)))
        return rows


def _shown(value: object) -> object:
    """A stored value as a reader sees it: yes or no for a flag, a list joined."""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or "—"
    return value
