"""The shipped 网格兜底办 rule sends grid items to the taxpayer's own grid service group
(target `taxpayer_grid`) instead of the competent branch's grid group, now that every
taxpayer belongs to a grid. Written as an audited rule change (a new version with its
RoutingRuleChange row). Reverse restores the competent-branch target the same way.

Only the shipped rule, found by name, and only while it still has the target it shipped
with: a rule an administrator has changed since is left alone.
"""

from django.db import migrations
from django.utils import timezone

NAME = "网格兜底办"
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
        "chooser": rule.chooser,
        "auto_dispatch": rule.auto_dispatch,
        "filters": list(rule.filters),
    }


def _retarget(apps, *, old: str, new: str, reason: str) -> None:
    RoutingRule = apps.get_model("routing", "RoutingRule")
    RoutingRuleChange = apps.get_model("routing", "RoutingRuleChange")
    for rule in RoutingRule.objects.filter(name=NAME, target=old, match_tier="grid"):
        before = _snapshot(rule)
        rule.target = new
        rule.version += 1
        rule.updated_at = timezone.now()
        rule.updated_by = None
        rule.save(update_fields=["target", "version", "updated_at", "updated_by"])
        RoutingRuleChange.objects.create(
            rule=rule,
            version=rule.version,
            changed_at=rule.updated_at,
            reason=reason,
            before=before,
            after=_snapshot(rule),
        )


def load(apps, schema_editor):
    _retarget(apps, old="competent_branch", new="taxpayer_grid", reason="网格兜底事项派给纳税人所在网格的服务组")


def unload(apps, schema_editor):
    _retarget(apps, old="taxpayer_grid", new="competent_branch", reason="恢复：派给主管税务机关的网格服务组")


class Migration(migrations.Migration):
    dependencies = [
        ("routing", "0008_taxpayer_grid_target"),
    ]

    operations = [migrations.RunPython(load, unload)]
