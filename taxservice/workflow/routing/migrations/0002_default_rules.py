"""The routing rules the product ships (docs/domain.md §3). Administrators edit them afterwards.

Reverse deletes exactly these rules (by name) with their change rows.
"""

from django.db import migrations

ALL_FILTERS = ["membership", "on_duty", "capacity", "conflict", "rotation"]

RULES = [
    {
        "name": "事项前移·属地优先",
        "description": "18项前移事项优先派给纳税人主管税务机关的派驻人员；无人可派时转纳税服务分局任务统筹岗人工分派。",
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
        "description": "网格兜底事项派给主管税务机关的网格服务组。",
        "priority": 20,
        "match_tier": "grid",
        "tier": "grid",
        "team_kind": "grid",
        "target": "competent_branch",
        "chooser": "least_loaded",
    },
    {
        "name": "一问联办·后台",
        "description": "一问联办事项派给主管税源管理分局对应团队，团队内随机派单。",
        "priority": 30,
        "match_list": "joint",
        "tier": "back",
        "target": "competent_branch",
        "chooser": "random",
    },
    {
        "name": "业务提级办",
        "description": "一问辅办事项不分区域，由市局对应线上团队集中办理（业务提级办）。",
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
            rule=rule, version=1, reason="系统预置规则", before=None, after={**data, "filters": ALL_FILTERS}
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
