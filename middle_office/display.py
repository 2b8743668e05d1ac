"""Routing rules and robot runs in the coordinators' words: labels for stored codes."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from taxservice.catalogue.models import HandlingList, Item
from taxservice.org.models import Branch, Team, Tier
from taxservice.taxpayers.models import Taxpayer
from taxservice.web.labels import filter_label
from taxservice.workflow.cases.models import Task
from taxservice.workflow.routing.models import Chooser, RoutingRule, RoutingRuleChange, Target

# The snapshot's keys (RoutingRule.snapshot) and their labels, in the form's order.
FIELD_NAMES = {
    "name": gettext_lazy("Name"),
    "description": gettext_lazy("Description"),
    "priority": gettext_lazy("Priority"),
    "active": gettext_lazy("Active"),
    "match_item_id": gettext_lazy("Item"),
    "match_list": gettext_lazy("List"),
    "match_tier": gettext_lazy("Item tier"),
    "match_moved_forward": gettext_lazy("Moved-forward items"),
    "match_source": gettext_lazy("Source line"),
    "match_classification": gettext_lazy("Taxpayer classification"),
    "match_grade": gettext_lazy("Taxpayer grade"),
    "match_district_id": gettext_lazy("District"),
    "target": gettext_lazy("Target"),
    "team_id": gettext_lazy("Team"),
    "team_kind": gettext_lazy("Team kind"),
    "tier": gettext_lazy("Tier"),
    "chooser": gettext_lazy("Chooser"),
    "filters": gettext_lazy("Filters"),
    "auto_dispatch": gettext_lazy("The robot dispatches every matched task"),
}

_CHOICES = {
    "match_list": HandlingList,
    "match_tier": Tier,
    "match_source": Task.Source,
    "match_classification": Taxpayer.Classification,
    "match_grade": Taxpayer.Grade,
    "target": Target,
    "team_kind": Team.Kind,
    "tier": Tier,
    "chooser": Chooser,
}


def value_label(name: str, value, *, items: dict[int, str], districts: dict[int, str]) -> str:
    """One snapshot value as a person reads it."""
    if name == "filters":
        return "、".join(filter_label(f) for f in value or []) or _("none")
    if value is None or value == "":
        if name in {"team_kind", "tier"}:
            return _("the item's own")
        return _("any") if name.startswith("match_") else "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if name == "match_item_id":
        return items.get(value, f"#{value}")
    if name == "match_district_id":
        return districts.get(value, f"#{value}")
    if name == "team_id":  # a rule that names its team (rare): its name, one query
        return Team.objects.filter(pk=value).values_list("name", flat=True).first() or f"#{value}"
    if name in _CHOICES:
        choices = dict(_CHOICES[name].choices)
        return str(choices.get(value, value))
    return str(value)


def describe_matches(rule: RoutingRule) -> list[tuple[str, str]]:
    """What a rule matches: (label, value) for each match field it sets; empty matches anything."""
    snapshot = rule.snapshot()
    items = {rule.match_item_id: str(rule.match_item)} if rule.match_item_id else {}
    districts = {rule.match_district_id: rule.match_district.name} if rule.match_district_id else {}
    return [
        (str(FIELD_NAMES[name]), value_label(name, snapshot[name], items=items, districts=districts))
        for name in RoutingRule.MATCH_FIELDS
        if snapshot[name] not in (None, "")
    ]


@dataclass
class FieldChange:
    label: str
    before: str
    after: str


@dataclass
class ChangeRow:
    change: RoutingRuleChange
    created: bool
    fields: list[FieldChange]


def change_rows(changes) -> list[ChangeRow]:  # an iterable of RoutingRuleChange
    """Each change with the fields it changed, before → after. Items and districts by one query each."""
    changes = list(changes)
    item_ids, district_ids = set(), set()
    for change in changes:
        for snapshot in (change.before or {}, change.after or {}):
            if snapshot.get("match_item_id"):
                item_ids.add(snapshot["match_item_id"])
            if snapshot.get("match_district_id"):
                district_ids.add(snapshot["match_district_id"])
    items = (
        {
            pk: f"{code} {name}"
            for pk, code, name in Item.objects.filter(pk__in=item_ids).values_list("pk", "code", "name")
        }
        if item_ids
        else {}
    )
    districts = dict(Branch.objects.filter(pk__in=district_ids).values_list("pk", "name")) if district_ids else {}
    rows = []
    for change in changes:
        before, after = change.before or {}, change.after or {}
        fields = [
            FieldChange(
                label=str(label),
                before=value_label(name, before.get(name), items=items, districts=districts) if change.before else "",
                after=value_label(name, after.get(name), items=items, districts=districts),
            )
            for name, label in FIELD_NAMES.items()
            if (change.before is None and after.get(name) not in (None, "", [], False))
            or (change.before is not None and before.get(name) != after.get(name))
        ]
        rows.append(ChangeRow(change=change, created=change.before is None, fields=fields))
    return rows


# --- robot runs -------------------------------------------------------------------------------


def skip_reason_label(reason: str) -> str:
    """The robot's skip reasons (codes from routing.services._skip_reason) in the reader's language."""
    if reason == "paused":
        return _("robot paused")
    if reason == "no_members":
        return _("team has no members")
    code, _sep, filters = reason.partition(":")
    if code == "no_eligible":
        names = [filter_label(name) for name in filters.split(",") if name]
        if not names:
            return _("no eligible staff")
        return _("no eligible staff (removed by: %(filters)s)") % {"filters": "、".join(names)}
    return reason


def skipped_reasons(reasons: dict) -> list[tuple[str, int]]:
    return [(skip_reason_label(reason), count) for reason, count in sorted((reasons or {}).items())]
