"""Classification rules (分类分级), pure: parse and check them, print them, apply them.

A rule set has two ordered lists, one for the category and one for the service grade.
Each row has conditions on the taxpayer's data and a result; the first row whose
conditions all hold gives the result, and when none does the list's default does. The
conditions, by name:

    kind      Taxpayer.kind         (enterprise, individual_business, natural_person)
    industry  Taxpayer.industry     (a short code, as stored)
    scale     Taxpayer.scale        (large, medium, small, micro)
    risk      Taxpayer.risk_level   (low, medium, high)
    credit    Taxpayer.grade        (the tax credit grade 纳税信用等级: A, B, M, C, D)

Each condition is a set of values (any of them matches); an absent condition matches
anything. Administrators edit the rows as text, one per line:

    kind=enterprise scale=large,medium credit=A risk=low -> A

(`#` starts a comment; blank lines are skipped). Stored as JSON rows
`{"when": {"scale": ["large", "medium"], …}, "then": "A"}`.

The same rows become three things, which must agree (tests/test_classification.py):
`evaluate` (one taxpayer in Python, at registration), `orm_case` (a Case expression, the
reference bulk recompute) and `sql_case` (the hand-written statement in
taxservice/taxpayers/sql.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.db.models import Case, CharField, Q, Value, When
from django.utils.translation import gettext as _

from taxservice.taxpayers.models import Category, Kind, RiskLevel, Scale, ServiceGrade, Taxpayer

# condition name -> the taxpayer's column
COLUMNS: dict[str, str] = {
    "kind": "kind",
    "industry": "industry",
    "scale": "scale",
    "risk": "risk_level",
    "credit": "grade",
}
ALLOWED: dict[str, frozenset[str] | None] = {
    "kind": frozenset(Kind.values),
    "industry": None,  # any short code
    "scale": frozenset(Scale.values),
    "risk": frozenset(RiskLevel.values),
    "credit": frozenset(Taxpayer.Grade.values),
}
INDUSTRY_CODE = re.compile(r"^[A-Za-z0-9]{1,8}$")
MAX_RULES = 100
ARROW = "->"


@dataclass(frozen=True)
class Rule:
    when: tuple[tuple[str, tuple[str, ...]], ...]  # (condition, values), in COLUMNS order
    then: str

    def matches(self, data: Mapping[str, str]) -> bool:
        return all(data.get(COLUMNS[name], "") in values for name, values in self.when)

    def as_json(self) -> dict:
        return {"when": {name: list(values) for name, values in self.when}, "then": self.then}

    def as_line(self) -> str:
        conditions = " ".join(f"{name}={','.join(values)}" for name, values in self.when)
        return f"{conditions} {ARROW} {self.then}" if conditions else f"* {ARROW} {self.then}"


class RuleError(ValueError):
    """A rule that cannot be read; the message names the line."""


def _rule(when: Mapping[str, Sequence[str]], then: str, results: frozenset[str], where: str) -> Rule:
    conditions = []
    for name, values in when.items():
        if name not in COLUMNS:
            raise RuleError(
                _("%(where)s: unknown condition “%(name)s” (use %(names)s).")
                % {"where": where, "name": name, "names": ", ".join(COLUMNS)}
            )
        if isinstance(values, str) or not all(isinstance(value, str) for value in values):
            raise RuleError(_("%(where)s: the values of “%(name)s” must be a list.") % {"where": where, "name": name})
        allowed = ALLOWED[name]
        if allowed is None:  # industry codes are kept in capitals, as registration stores them
            values = [value.upper() for value in values]
        for value in values:
            if (allowed is not None and value not in allowed) or (allowed is None and not INDUSTRY_CODE.match(value)):
                raise RuleError(
                    _("%(where)s: “%(value)s” is not a value of “%(name)s”%(allowed)s.")
                    % {
                        "where": where,
                        "value": value,
                        "name": name,
                        "allowed": f" ({', '.join(sorted(allowed))})" if allowed else "",
                    }
                )
        if values:  # an empty list matches anything, as an absent condition does
            conditions.append((name, tuple(dict.fromkeys(values))))
    if then not in results:
        raise RuleError(
            _("%(where)s: “%(then)s” is not a result here (use %(results)s).")
            % {"where": where, "then": then, "results": ", ".join(sorted(results))}
        )
    order = list(COLUMNS)
    return Rule(when=tuple(sorted(conditions, key=lambda pair: order.index(pair[0]))), then=then)


def parse_text(text: str, *, results: frozenset[str]) -> list[Rule]:
    """Rows typed one per line (`scale=large credit=A -> A`). Raises RuleError naming the line."""
    rules = []
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        where = _("Line %(number)d") % {"number": number}
        if line.count(ARROW) != 1:
            raise RuleError(_("%(where)s: write the conditions, then “->” and the result.") % {"where": where})
        left, then = (part.strip() for part in line.split(ARROW))
        when: dict[str, list[str]] = {}
        for token in left.split():
            if token == "*":  # noqa: S105 - the "any" mark, not a secret
                continue
            name, equals, values = token.partition("=")
            if not equals or not values:
                raise RuleError(
                    _("%(where)s: “%(token)s” is not a condition (write name=value,value).")
                    % {"where": where, "token": token}
                )
            if name in when:
                raise RuleError(_("%(where)s: “%(name)s” is given twice.") % {"where": where, "name": name})
            when[name] = [value for value in values.split(",") if value]
        rules.append(_rule(when, then, results, where))
    if len(rules) > MAX_RULES:
        raise RuleError(_("At most %(count)d rules.") % {"count": MAX_RULES})
    return rules


def parse_json(rows: object, *, results: frozenset[str]) -> list[Rule]:
    """Rows as stored or as sent to the API. Raises RuleError naming the row."""
    if not isinstance(rows, list):
        raise RuleError(_("The rules must be a list."))
    if len(rows) > MAX_RULES:
        raise RuleError(_("At most %(count)d rules.") % {"count": MAX_RULES})
    rules = []
    for number, row in enumerate(rows, start=1):
        where = _("Rule %(number)d") % {"number": number}
        if not isinstance(row, dict) or not isinstance(row.get("when", {}), dict):
            raise RuleError(_('%(where)s: write {"when": {…}, "then": …}.') % {"where": where})
        rules.append(_rule(row.get("when", {}), str(row.get("then", "")), results, where))
    return rules


CATEGORY_RESULTS = frozenset(Category.values)
GRADE_RESULTS = frozenset(ServiceGrade.values)


def as_text(rules: Sequence[Rule]) -> str:
    return "\n".join(rule.as_line() for rule in rules)


def first_match(rules: Sequence[Rule], default: str, data: Mapping[str, str]) -> str:
    for rule in rules:
        if rule.matches(data):
            return rule.then
    return default


@dataclass(frozen=True)
class Compiled:
    """A rule set's two lists, read once."""

    category_rules: tuple[Rule, ...]
    default_category: str
    grade_rules: tuple[Rule, ...]
    default_grade: str

    @classmethod
    def of(cls, rule_set) -> Compiled:  # a ClassificationRuleSet
        return cls(
            category_rules=tuple(parse_json(rule_set.category_rules, results=CATEGORY_RESULTS)),
            default_category=rule_set.default_category,
            grade_rules=tuple(parse_json(rule_set.grade_rules, results=GRADE_RESULTS)),
            default_grade=rule_set.default_grade,
        )

    def evaluate(self, data: Mapping[str, str]) -> tuple[str, str]:
        """(category, service grade) of one taxpayer's data, keyed by column name."""
        return (
            first_match(self.category_rules, self.default_category, data),
            first_match(self.grade_rules, self.default_grade, data),
        )

    def category_case(self) -> Case | Value:
        return orm_case(self.category_rules, self.default_category)

    def grade_case(self) -> Case | Value:
        return orm_case(self.grade_rules, self.default_grade)


def _reachable(rules: Sequence[Rule], default: str) -> tuple[list[Rule], str]:
    """The rows up to the first one without conditions, which then is the default."""
    kept: list[Rule] = []
    for rule in rules:
        if not rule.when:
            return kept, rule.then
        kept.append(rule)
    return kept, default


def orm_case(rules: Sequence[Rule], default: str) -> Case | Value:
    """The rows as an ORM expression (the reference)."""
    kept, default = _reachable(rules, default)
    if not kept:
        return Value(default, output_field=CharField())
    whens = [
        When(Q(*[Q(**{f"{COLUMNS[name]}__in": values}) for name, values in rule.when]), then=Value(rule.then))
        for rule in kept
    ]
    return Case(*whens, default=Value(default), output_field=CharField())


def sql_case(rules: Sequence[Rule], default: str, *, alias: str) -> tuple[str, list[str]]:
    """The rows as a SQL CASE over the table `alias`, with its parameters (never formatted in)."""
    kept, default = _reachable(rules, default)
    params: list[str] = []
    if not kept:
        return "%s", [default]
    parts = ["CASE"]
    for rule in kept:
        tests = []
        for name, values in rule.when:
            tests.append(f"{alias}.{COLUMNS[name]} IN ({', '.join(['%s'] * len(values))})")
            params.extend(values)
        parts.append(f"WHEN {' AND '.join(tests)} THEN %s")
        params.append(rule.then)
    parts.append("ELSE %s END")
    params.append(default)
    return " ".join(parts), params
