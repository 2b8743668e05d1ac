"""The routing rules the product ships (DOMAIN.md §3). Administrators edit them afterwards.

Reverse deletes exactly these rules (by name) with their change rows.
"""

from django.db import migrations

ALL_FILTERS = ["membership", "on_duty", "capacity", "conflict", "rotation"]

RULES = [
    {
        "name": "事项前移·属地优先",
        "description": "The 18 moved-forward items go to the dispatched staff of the taxpayer's competent branch; "
        "when none is eligible, to the coordination post.",
        "priority": 10,
        "match_moved_forward": True,
        "tier": "middle",
        "team_kind": "dispatched",
        "target": "territorial",
        "chooser": "random",
        "auto_dispatch": True,
    },
    {
        "name": "网格兜底办",
        "description": "Grid items go to the grid service group of the taxpayer's competent branch.",
        "priority": 20,
        "match_tier": "grid",
        "tier": "grid",
        "team_kind": "grid",
        "target": "competent_branch",
        "chooser": "least_loaded",
    },
    {
        "name": "一问联办·后台",
        "description": "Back-office items go to the competent tax-source branch's team of the item's kind (随机派单).",
        "priority": 30,
        "match_list": "joint",
        "tier": "back",
        "target": "competent_branch",
        "chooser": "random",
    },
    {
        "name": "业务提级办",
        "description": "Assisted items go to the city team of the item's kind, whatever the district.",
        "priority": 40,
        "match_list": "assisted",
        "tier": "middle",
        "target": "city",
        "chooser": "least_loaded",
    },
]


def load(apps, schema_editor):
    RoutingRule = apps.get_model("routing", "RoutingRule")
    RoutingRuleChange = apps.get_model("routing", "RoutingRuleChange")
    for data in RULES:
        rule = RoutingRule.objects.create(filters=ALL_FILTERS, **data)
        RoutingRuleChange.objects.create(
            rule=rule, version=1, reason="Shipped default", before=None, after={**data, "filters": ALL_FILTERS}
        )


def unload(apps, schema_editor):
    RoutingRule = apps.get_model("routing", "RoutingRule")
    RoutingRuleChange = apps.get_model("routing", "RoutingRuleChange")
    names = [data["name"] for data in RULES]
    RoutingRuleChange.objects.filter(rule__name__in=names).delete()
    RoutingRule.objects.filter(name__in=names).delete()


class Migration(migrations.Migration):
    dependencies = [("routing", "0001_initial")]

    operations = [migrations.RunPython(load, unload)]
