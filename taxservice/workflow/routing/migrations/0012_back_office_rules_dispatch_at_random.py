"""Work that reaches a tax-source branch's team is dispatched at random inside the team by
the robot, by default (issue #9, 随机派单): the shipped back-office rule 一问联办·后台 is
switched to `auto_dispatch` with the `random` chooser, as an audited rule change (a new
version with its RoutingRuleChange row, no person named).

Only the shipped back-office rules, found by name and target. A rule a person has saved
with the robot off (a change row with `changed_by` set whose `after.auto_dispatch` is
false) says manual on purpose and is left as it is; so is a rule already on.
Reverse switches the robot off again for the rules this migration switched on.
"""

from django.db import migrations
from django.utils import timezone

SHIPPED_BACK_OFFICE = ("一问联办·后台",)
REASON = "后台团队默认由机器人随机派单（随机派单）"
MATCH_FIELDS = (
    "match_item_id",
    "match_list",
    "match_tier",
    "match_moved_forward",
    "match_source",
    "match_classification",
    "match_grade",
    "match_district_id",
)


def _snapshot(rule) -> dict:
    return {
        "name": rule.name,
        "description": rule.description,
        "priority": rule.priority,
        "active": rule.active,
        **{name: getattr(rule, name) for name in MATCH_FIELDS},
        "tier": rule.tier,
        "team_kind": rule.team_kind,
        "target": rule.target,
        "team_id": rule.team_id,
        "chooser": rule.chooser,
        "auto_dispatch": rule.auto_dispatch,
        "filters": list(rule.filters),
    }


def _said_manual(RoutingRuleChange, rule) -> bool:
    return any(
        after.get("auto_dispatch") is False
        for after in RoutingRuleChange.objects.filter(rule=rule, changed_by__isnull=False).values_list(
            "after", flat=True
        )
    )


def _change(RoutingRuleChange, rule, *, reason: str, **values) -> None:
    before = _snapshot(rule)
    for name, value in values.items():
        setattr(rule, name, value)
    rule.version += 1
    rule.updated_at = timezone.now()
    rule.updated_by = None
    rule.save(update_fields=[*values, "version", "updated_at", "updated_by"])
    RoutingRuleChange.objects.create(
        rule=rule, version=rule.version, changed_at=rule.updated_at, reason=reason, before=before, after=_snapshot(rule)
    )


def load(apps, schema_editor):
    RoutingRule = apps.get_model("routing", "RoutingRule")
    RoutingRuleChange = apps.get_model("routing", "RoutingRuleChange")
    rules = RoutingRule.objects.filter(name__in=SHIPPED_BACK_OFFICE, target="competent_branch", auto_dispatch=False)
    for rule in rules:
        if not _said_manual(RoutingRuleChange, rule):
            _change(RoutingRuleChange, rule, reason=REASON, auto_dispatch=True, chooser="random")


def unload(apps, schema_editor):
    RoutingRule = apps.get_model("routing", "RoutingRule")
    RoutingRuleChange = apps.get_model("routing", "RoutingRuleChange")
    for rule in RoutingRule.objects.filter(name__in=SHIPPED_BACK_OFFICE, auto_dispatch=True):
        last = RoutingRuleChange.objects.filter(rule=rule).order_by("-version").first()
        if last is not None and last.reason == REASON and last.changed_by_id is None:
            _change(RoutingRuleChange, rule, reason="恢复：后台团队等待人工领取", auto_dispatch=False)


class Migration(migrations.Migration):
    dependencies = [("routing", "0011_absences_declared_and_rule_names_team")]

    operations = [migrations.RunPython(load, unload)]
