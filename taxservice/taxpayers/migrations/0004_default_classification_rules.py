"""The shipped classification rules, version 1 (docs/grid.md, "Classification and grading").

Category: individual businesses and natural persons by kind; large enterprises are key
enterprises, medium ones ordinary, the rest small or micro. Service grade: D for high
risk or credit D; C for credit C or medium risk; A for large and medium enterprises with
credit A and low risk; B otherwise (natural persons included, unless risk says more).
Existing taxpayers are graded by a recomputation (the /classification/ page, the API, or
`manage.py seed_demo`), not here: a migration should not rewrite a million rows.
"""

from django.db import migrations

CATEGORY_RULES = [
    {"when": {"kind": ["individual_business"]}, "then": "individual_business"},
    {"when": {"kind": ["natural_person"]}, "then": "natural_person"},
    {"when": {"scale": ["large"]}, "then": "key_enterprise"},
    {"when": {"scale": ["medium"]}, "then": "ordinary_enterprise"},
]
GRADE_RULES = [
    {"when": {"risk": ["high"]}, "then": "D"},
    {"when": {"credit": ["D"]}, "then": "D"},
    {"when": {"credit": ["C"]}, "then": "C"},
    {"when": {"risk": ["medium"]}, "then": "C"},
    {"when": {"kind": ["enterprise"], "scale": ["large", "medium"], "risk": ["low"], "credit": ["A"]}, "then": "A"},
]


def seed(apps, schema_editor):
    RuleSet = apps.get_model("taxpayers", "ClassificationRuleSet")
    if not RuleSet.objects.exists():
        RuleSet.objects.create(
            version=1,
            category_rules=CATEGORY_RULES,
            default_category="small_micro_enterprise",
            grade_rules=GRADE_RULES,
            default_grade="B",
            reason="Shipped default rules",
        )


def unseed(apps, schema_editor):
    RuleSet = apps.get_model("taxpayers", "ClassificationRuleSet")
    RuleSet.objects.filter(version=1, created_by=None, runs=None).delete()


class Migration(migrations.Migration):
    dependencies = [("taxpayers", "0003_classification")]

    operations = [migrations.RunPython(seed, unseed)]
