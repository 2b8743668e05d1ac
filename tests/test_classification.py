"""Classification and grading (分类分级): rules as data, versions, the bulk recomputation
(set-based, idempotent, with history), the hand-written SQL against its ORM reference, the
page, the API and registration."""

from __future__ import annotations

from importlib import import_module

import pytest
from django.apps import apps
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation

from taxservice.errors import ActionForbidden, InvalidInput
from taxservice.taxpayers import classification_services as services
from taxservice.taxpayers import sql
from taxservice.taxpayers.classification import (
    GRADE_RESULTS,
    Compiled,
    RuleError,
    parse_text,
)
from taxservice.taxpayers.models import (
    ClassificationRuleSet,
    ClassificationRun,
    Taxpayer,
    TaxpayerGradeChange,
)
from taxservice.taxpayers.services import taxpayer_register
from tests.factories import TaxpayerFactory, credit_code

SHIPPED = import_module("taxservice.taxpayers.migrations.0004_default_classification_rules")


@pytest.fixture
def rules(db):
    """The shipped version 1 (an earlier transactional test may have flushed it)."""
    if not ClassificationRuleSet.objects.exists():
        SHIPPED.seed(apps, None)
    return ClassificationRuleSet.objects.order_by("-version").first()


@pytest.fixture(autouse=True)
def english(settings):
    """Messages in English: the services' sentences here, the pages by the language cookie."""
    with translation.override("en"):
        yield


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """`with committed():` runs what a commit would start (the recomputation, inline in tests)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def people(org, n: int = 12) -> list[Taxpayer]:
    """A mix of kinds, scales, risks and credit grades, ungraded."""
    kinds = ["enterprise", "enterprise", "individual_business", "natural_person"]
    scales = ["large", "medium", "small", "micro"]
    risks = ["low", "low", "medium", "high"]
    credits = ["A", "B", "C", "D", "M"]
    return [
        TaxpayerFactory(
            competent_branch=org.source,
            kind=kinds[i % 4],
            scale=scales[(i // 2) % 4],
            risk_level=risks[(i // 3) % 4],
            grade=credits[i % 5],
            industry=["C", "F", "I"][i % 3],
        )
        for i in range(n)
    ]


def expected(rule_set, taxpayer) -> tuple[str, str]:
    data = {name: getattr(taxpayer, name) for name in ("kind", "industry", "scale", "risk_level", "grade")}
    return Compiled.of(rule_set).evaluate(data)


# --- the rules ---------------------------------------------------------------------------


def test_the_first_matching_rule_wins_and_the_default_catches_the_rest():
    rules = parse_text("risk=high -> D\ncredit=A risk=low,high -> A  # never A when high\n", results=GRADE_RESULTS)
    compiled = Compiled(
        category_rules=(), default_category="natural_person", grade_rules=tuple(rules), default_grade="B"
    )
    assert compiled.evaluate({"risk_level": "high", "grade": "A"}) == ("natural_person", "D")
    assert compiled.evaluate({"risk_level": "low", "grade": "A"}) == ("natural_person", "A")
    assert compiled.evaluate({"risk_level": "medium", "grade": "A"}) == ("natural_person", "B")


@pytest.mark.parametrize(
    "text",
    ["risk=extreme -> D", "colour=red -> D", "risk=high -> E", "risk=high D", "risk=high risk=low -> D", "risk -> D"],
)
def test_it_refuses_a_rule_it_cannot_read_naming_the_line(text):
    with pytest.raises(RuleError, match="Line 1"):
        parse_text(text, results=GRADE_RESULTS)


def test_text_and_rows_round_trip(rules):
    compiled = Compiled.of(rules)
    again = parse_text("\n".join(rule.as_line() for rule in compiled.grade_rules), results=GRADE_RESULTS)
    assert tuple(again) == compiled.grade_rules


# --- versions ----------------------------------------------------------------------------


def test_a_save_is_a_new_version_with_who_and_why_and_starts_a_run(org, rules, committed):
    people(org, 4)
    with committed():
        rule_set, run = services.rule_set_save(
            actor=org.admin,
            category_rules="kind=natural_person -> natural_person",
            default_category="ordinary_enterprise",
            grade_rules="risk=high,medium -> D",
            default_grade="A",
            reason="Pilot",
        )
    assert rule_set.version == rules.version + 1
    assert (rule_set.created_by, rule_set.reason) == (org.admin, "Pilot")
    assert ClassificationRuleSet.objects.order_by("-version").first() == rule_set
    run.refresh_from_db()  # ran inline (tests) after the commit
    assert run.rule_set == rule_set and run.state == ClassificationRun.State.DONE
    assert rules.grade_rules != rule_set.grade_rules  # the old version is kept as it was
    rules.refresh_from_db()
    assert rules.version == 1


def test_a_save_refuses_bad_rules_a_blank_reason_and_non_admins(org, rules):
    with pytest.raises(InvalidInput) as caught:
        services.rule_set_save(
            actor=org.admin,
            category_rules="kind=alien -> natural_person",
            default_category="nope",
            grade_rules="",
            default_grade="B",
            reason="  ",
        )
    assert set(caught.value.fields) == {"category_rules", "default_category", "reason"}
    with pytest.raises(ActionForbidden):
        services.rule_set_save(
            actor=org.coordinator, category_rules="", default_category="natural_person", grade_rules="",
            default_grade="B", reason="x",
        )  # fmt: skip
    assert ClassificationRuleSet.objects.count() == 1 and not ClassificationRun.objects.exists()


def test_saving_the_same_rules_again_is_refused(org, rules):
    with pytest.raises(InvalidInput) as caught:
        services.rule_set_restore(actor=org.admin, version=rules.version, reason="again")
    assert caught.value.code == "nothing_to_change"


# --- the bulk recomputation -------------------------------------------------------------


def _run(org, cause="test") -> ClassificationRun:
    run = services.classification_run_start(actor=org.admin, cause=cause)
    run = services.classification_run(run_id=run.pk)  # what the job runs after the commit
    return run


def test_a_run_grades_everyone_by_chunks_with_one_history_row_per_change(org, rules, settings):
    settings.TAXSERVICE_CLASSIFY_CHUNK = 5  # several chunks
    everyone = people(org, 12)
    run = _run(org)
    assert (run.state, run.total, run.done, run.changed, run.percent) == ("done", 12, 12, 12, 100)
    for taxpayer in everyone:
        taxpayer.refresh_from_db()
        assert (taxpayer.category, taxpayer.service_grade) == expected(rules, taxpayer)
        (change,) = TaxpayerGradeChange.objects.filter(taxpayer=taxpayer)
        assert (change.before_category, change.before_grade) == ("", "")
        assert (change.after_category, change.after_grade, change.run, change.rule_set) == (
            taxpayer.category, taxpayer.service_grade, run, rules,
        )  # fmt: skip


def test_a_second_run_changes_only_what_moved_and_nothing_when_nothing_did(org, rules):
    everyone = people(org, 8)
    _run(org)
    again = _run(org)
    assert (again.done, again.changed) == (8, 0)
    assert TaxpayerGradeChange.objects.filter(run=again).count() == 0
    risky = everyone[0]
    Taxpayer.objects.filter(pk=risky.pk).update(risk_level="high")
    third = _run(org, "risk levels updated")
    assert third.changed == 1
    (change,) = TaxpayerGradeChange.objects.filter(run=third)
    assert (change.taxpayer_id, change.after_grade) == (risky.pk, "D")


def test_a_run_of_an_older_version_stops_as_superseded(org, rules, committed):
    people(org, 3)
    old = ClassificationRun.objects.create(cause="old", rule_set=rules)
    with committed():
        services.rule_set_save(
        actor=org.admin, category_rules="", default_category="natural_person", grade_rules="", default_grade="C",
        reason="all C",
    )  # fmt: skip
    run = services.classification_run(run_id=old.pk)
    assert run.state == ClassificationRun.State.SUPERSEDED
    assert set(Taxpayer.objects.values_list("service_grade", flat=True)) == {"C"}


def test_the_hand_written_sql_writes_what_the_orm_reference_writes(org, rules):
    """On PostgreSQL the fast path and the reference both run on the same data; elsewhere
    `regrade_range` is the reference itself."""
    # A rule set that uses every condition, an unreachable row and a catch-all.
    rule_set = ClassificationRuleSet.objects.create(
        version=rules.version + 1,
        category_rules=[
            {"when": {"kind": ["natural_person"]}, "then": "natural_person"},
            {"when": {"industry": ["C"], "scale": ["large", "medium"]}, "then": "key_enterprise"},
            {"when": {}, "then": "ordinary_enterprise"},
            {"when": {"kind": ["enterprise"]}, "then": "small_micro_enterprise"},
        ],
        default_category="small_micro_enterprise",
        grade_rules=SHIPPED.GRADE_RULES,
        default_grade="B",
        reason="test",
    )
    everyone = people(org, 40)
    ids = [taxpayer.pk for taxpayer in everyone]
    compiled, now = Compiled.of(rule_set), timezone.now()

    def snapshot():
        grades = dict(Taxpayer.objects.filter(pk__in=ids).values_list("pk", "service_grade"))
        categories = dict(Taxpayer.objects.filter(pk__in=ids).values_list("pk", "category"))
        history = sorted(
            TaxpayerGradeChange.objects.filter(taxpayer_id__in=ids).values_list(
                "taxpayer_id", "before_category", "after_category", "before_grade", "after_grade", "rule_set_id"
            )
        )
        return grades, categories, history

    def reset():
        TaxpayerGradeChange.objects.all()._raw_delete(TaxpayerGradeChange.objects.db)
        Taxpayer.objects.filter(pk__in=ids[::2]).update(category="", service_grade="")
        Taxpayer.objects.filter(pk__in=ids[1::2]).update(category="natural_person", service_grade="A")

    reset()
    with transaction.atomic():
        changed_fast = sql.regrade_range(
            compiled, lo=min(ids), hi=max(ids), rule_set_id=rule_set.pk, run_id=None, at=now
        )
    fast = snapshot()
    reset()
    with transaction.atomic():
        changed_orm = sql.regrade_range_orm(
            compiled, lo=min(ids), hi=max(ids), rule_set_id=rule_set.pk, run_id=None, at=now
        )
    reference = snapshot()
    assert changed_fast == changed_orm > 0
    assert fast == reference
    for taxpayer in everyone:
        data = {name: getattr(taxpayer, name) for name in ("kind", "industry", "scale", "risk_level", "grade")}
        assert (reference[1][taxpayer.pk], reference[0][taxpayer.pk]) == compiled.evaluate(data)


# --- registration -------------------------------------------------------------------------


def test_a_registered_taxpayer_gets_its_grade_and_a_first_history_row(org, rules):
    taxpayer = taxpayer_register(
        actor=org.clerk,
        credit_code=credit_code(424242),
        name="星河制造有限公司",
        competent_branch_code=org.source.code,
        grade="A",
        kind="enterprise",
        industry="c",
        scale="large",
        risk_level="low",
    )
    taxpayer.refresh_from_db()
    assert (taxpayer.industry, taxpayer.category, taxpayer.service_grade) == ("C", "key_enterprise", "A")
    (change,) = taxpayer.grade_changes.all()
    assert (change.after_grade, change.run, change.rule_set) == ("A", None, rules)


def test_registration_refuses_unknown_classification_data(org, rules):
    with pytest.raises(InvalidInput) as caught:
        taxpayer_register(
            actor=org.clerk, credit_code=credit_code(424243), name="x", competent_branch_code=org.source.code,
            kind="robot", scale="huge", risk_level="none", industry="far too long",
        )  # fmt: skip
    assert set(caught.value.fields) == {"kind", "scale", "risk_level", "industry"}
    assert not Taxpayer.objects.filter(credit_code=credit_code(424243)).exists()


# --- the page ----------------------------------------------------------------------------


def test_the_page_is_for_administrators(client, org, rules):
    client.force_login(org.coordinator.user)
    assert client.get(reverse("classification")).status_code == 403
    assert client.post(reverse("classification_run_new"), {"cause": "x"}).status_code == 403
    client.force_login(org.admin.user)
    page = client.get(reverse("classification"))
    assert page.status_code == 200
    assert "risk=high -&gt; D" in page.content.decode()


def test_the_form_refuses_a_blank_reason_and_keeps_the_typed_words(client, org, rules, settings):
    client.force_login(org.admin.user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    answer = client.post(
        reverse("classification"),
        {
            "category_rules": "scale=large -> key_enterprise",
            "default_category": "ordinary_enterprise",
            "grade_rules": "risk=high -> D\ncredit=A -> A",
            "default_grade": "B",
            "reason": "",
        },
    )
    assert answer.status_code == 400
    html = answer.content.decode()
    assert "credit=A -&gt; A" in html and "scale=large -&gt; key_enterprise" in html
    assert "Say why the rules change" in html
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    assert "分类分级" in client.get(reverse("classification")).content.decode()
    assert ClassificationRuleSet.objects.count() == 1


def test_the_form_saves_a_version_and_the_progress_row_renders(client, org, rules, committed):
    people(org, 3)
    client.force_login(org.admin.user)
    with committed():
        answer = client.post(
            reverse("classification"),
            {
                "category_rules": "",
                "default_category": "ordinary_enterprise",
                "grade_rules": "risk=high -> D",
                "default_grade": "B",
                "reason": "Simpler",
            },
        )
    assert answer.status_code == 302
    run = ClassificationRun.objects.get()
    row = client.get(reverse("classification_run", args=[run.pk]))
    assert row.status_code == 200 and "100%" in row.content.decode()
    assert client.get(reverse("classification_run", args=[run.pk + 99])).status_code == 404
    restore = client.post(reverse("classification_restore", args=[1]), {"reason": "back"})
    assert restore.status_code == 302
    assert ClassificationRuleSet.objects.order_by("-version").first().grade_rules == rules.grade_rules


# --- the API -----------------------------------------------------------------------------


def test_the_api_shows_the_rules_starts_a_run_and_follows_it(api, org, rules, committed):
    people(org, 2)
    body = api(org.clerk).get("/api/v1/classification/rules/").json()
    assert body["version"] == rules.version and body["default_grade"] == "B"
    assert api(org.clerk).post("/api/v1/classification/runs/", {"cause": "x"}, format="json").status_code == 403
    refused = api(org.admin).post("/api/v1/classification/runs/", {}, format="json")
    assert refused.status_code == 400 and "cause" in refused.json()["fields"]
    with committed():
        started = api(org.admin).post("/api/v1/classification/runs/", {"cause": "nightly"}, format="json")
    assert started.status_code == 202
    run = api(org.admin).get(f"/api/v1/classification/runs/{started.json()['id']}/").json()
    assert (run["state"], run["done"], run["changed"], run["version"]) == ("done", 2, 2, rules.version)
    assert api(org.clerk).get(f"/api/v1/classification/runs/{run['id']}/").status_code == 403
    assert api(org.admin).get("/api/v1/classification/runs/999999/").status_code == 404


def test_the_taxpayer_api_shows_the_classification_read_only(api, org, rules):
    taxpayer = people(org, 1)[0]
    _run(org)
    body = api(org.clerk).get("/api/v1/taxpayers/", {"q": taxpayer.credit_code}).json()
    row = body["results"][0] if isinstance(body, dict) else body[0]
    taxpayer.refresh_from_db()
    assert (row["kind"], row["category"], row["service_grade"]) == (
        taxpayer.kind, taxpayer.category, taxpayer.service_grade,
    )  # fmt: skip


# --- demo ---------------------------------------------------------------------------------


def test_every_demo_taxpayer_gets_classification_data_and_a_grade(org, rules):
    from taxservice.demo.classification import classify_demo_taxpayers, delete_demo_classification

    everyone = [
        TaxpayerFactory(competent_branch=org.source, name=name, classification=classification)
        for name, classification in [
            ("滨江区恒达便利店", "individual_business"),
            ("江城恒达网络科技有限公司", "general_vat"),
            ("华泰机械制造有限公司", "small_scale"),
        ]
    ]
    classify_demo_taxpayers(everyone, seed=7)
    graded = Taxpayer.objects.filter(pk__in=[t.pk for t in everyone])
    assert [t.industry for t in graded.order_by("pk")] == ["F", "I", "C"]
    assert graded.filter(service_grade="").count() == 0 and graded.filter(category="").count() == 0
    assert graded.get(pk=everyone[0].pk).category == "individual_business"
    delete_demo_classification(taxpayers=[t.pk for t in everyone])
    assert not TaxpayerGradeChange.objects.filter(taxpayer__in=everyone).exists()
