"""The authorization matrix: who may do what, to which object, as data.

A data view of the rules that already exist, derived from them so that it cannot drift:

- every task transition, from its declaration in `workflow.cases.transitions.TRANSITIONS`
  (`roles`, `holder_only`, `holder_or_supervisor`, `four_eyes`, `delegable`, an `assignee`
  input) and the policy's standing rules (`workflow.cases.policy`: administrators, the
  supervisors who step in, the approval steps, the counter's cancel);
- every named rule of `taxservice.access.RULES` that pages (`staff_page(rule)`) and API
  endpoints (`requires(rule)`) ask.

For each action and role a cell says which relations to the object the actor needs: a
tuple of alternatives, each a set of relations that must all hold (an empty tuple: never).
`matrix()` gives the rows, `matrix_markdown()` the table and `document()` the whole of
docs/authorization.md (`manage.py authz_matrix --write docs/authorization.md`;
tests/test_authorization_matrix.py checks the committed file and checks every account of
a small organisation against the matrix with its own reading of the facts).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from taxservice import access
from taxservice.access import (
    FINAL_APPROVERS,
    SUPERVISORS,
    DeputyRule,
    DeskRule,
    GridMembershipRule,
    Rule,
)
from taxservice.org.models import Role
from taxservice.workflow.cases.policy import DECISIONS
from taxservice.workflow.cases.transitions import TRANSITIONS, Transition
from taxservice.workflow.nearby import policy as nearby_policy

R = Role

# --- the relations, a closed set --------------------------------------------------------------

ANY = "any"
VISIBLE = "visible"
HOLDER = "holder"
HOLDER_OR_FREE = "holder_or_free"
HOLDABLE = "holdable"
OWN_TEAM = "own_team"
AT_COUNTER = "at_counter"
EARLY_STEP = "early_step"
FINAL_STEP = "final_step"
NOT_HANDLED = "not_handled"
DEPUTY = "deputy"
GRID_MEMBER = "grid_member"
DESK_TEAM = "desk_team"

RELATIONS: dict[str, str] = {
    ANY: "no relation to the object is needed (any task in the right state, or no object)",
    VISIBLE: (
        "in their scope: they see the task (they hold it, its team is theirs or belongs to their "
        "branch scope, or its case was accepted in their halls or by them: `access.can_see_task`) "
        "and may act on it (a city-bureau member or expert only on their own teams' tasks or what "
        "they hold: `access.may_act_on`)"
    ),
    HOLDER: "they hold the task (its assignee)",
    HOLDER_OR_FREE: "they hold the task, or nobody does",
    HOLDABLE: (
        "they could hold it themselves (and name nobody else): a member of its team unless it waits "
        "at the coordination post, and on duty (`policy.holding_refusal`)"
    ),
    OWN_TEAM: "the task's team is one of theirs",
    AT_COUNTER: "the task has not been transferred yet (state `received`)",
    EARLY_STEP: "the approval is at a step before the last (multi-step approval)",
    FINAL_STEP: "the approval is at its last step",
    NOT_HANDLED: (
        "four eyes: they never held the task, did none of its work and decided no earlier step of "
        "this approval round (`policy.worked_on`)"
    ),
    DEPUTY: (
        "they deputise for a branch chief in a running delegation, and that chief could take the "
        "step (the chief's own relations, four eyes for the chief too)"
    ),
    GRID_MEMBER: "whatever their role: a member of a grid service group",
    DESK_TEAM: "whatever their role: a member of a branch's coordination team",
}

# The order relations are written in a cell.
_ORDER = {name: i for i, name in enumerate(RELATIONS)}

# The roles in the table's column order.
ROLES: tuple[str, ...] = tuple(Role.values)

# The one rule of the policy that names a transition rather than reading its spec:
# `policy.own_denial` lets non-supervisors cancel only what has not been transferred.
COUNTER_CANCEL = "cancel"

# Roles that see every task and may act on any (`Staff.sees_everything`, `access.may_act_on`).
ACT_ON_ANY = frozenset({R.COORDINATOR, R.ADMIN})

# Every named rule: the access policy's, and the page rules the door-to-door work declares
# beside its own policy (taxservice/workflow/nearby/policy.py).
ALL_RULES: tuple[Rule, ...] = (
    *access.RULES,
    *(value for value in vars(nearby_policy).values() if isinstance(value, Rule)),
)

Alternatives = tuple[frozenset[str], ...]
NEVER: Alternatives = ()


@dataclass(frozen=True)
class Row:
    action: str
    kind: str  # "transition" | "rule"
    cells: dict[str, Alternatives]  # role -> alternatives

    def admits(self, role: str) -> bool:
        """Whether some object (or none) lets this role take the action."""
        return bool(self.cells.get(role))


def _alternatives(*sets: Iterable[str]) -> Alternatives:
    """The alternatives as frozensets; one that needs nothing (`any`) makes the others moot."""
    found = tuple(frozenset(relations) for relations in sets)
    if any(not relations for relations in found):
        return (frozenset({ANY}),)
    return found


def transition_cell(spec: Transition, role: str) -> Alternatives:
    """What `role` needs to make the transition: read off the spec and the policy's rules."""
    if role == R.ADMIN:  # administrators may make any transition; four eyes binds them too
        return _alternatives({NOT_HANDLED} if spec.four_eyes else set())
    found: list[set[str]] = []
    if role in spec.roles:
        needs: set[str] = set()
        if role not in ACT_ON_ANY:
            needs.add(VISIBLE)
        supervisor = role in SUPERVISORS
        if spec.name == COUNTER_CANCEL and not supervisor:
            needs.add(AT_COUNTER)
        if spec.holder_only and not supervisor:
            needs.add(HOLDER)
        if spec.holder_or_supervisor and not supervisor:
            needs.add(HOLDER_OR_FREE)
        if "assignee" in spec.inputs and role not in access.can_assign_others.roles:
            needs.add(HOLDABLE)
        if spec.name in DECISIONS:
            if role == R.TEAM_LEAD:
                needs |= {EARLY_STEP, OWN_TEAM}
            elif role != R.BRANCH_CHIEF and role in FINAL_APPROVERS:
                needs.add(FINAL_STEP)
        if spec.four_eyes:
            needs.add(NOT_HANDLED)
        found.append(needs)
    if spec.delegable:
        found.append({DEPUTY, NOT_HANDLED})
    return _alternatives(*found)


def rule_cell(rule: Rule, role: str) -> Alternatives:
    """What `role` needs to pass a named rule: the role, or for some rules a membership."""
    found: list[set[str]] = []
    if role in rule.roles:
        found.append(set())
    if isinstance(rule, GridMembershipRule | nearby_policy.GridStaffRule):
        found.append({GRID_MEMBER})
    elif isinstance(rule, DeputyRule):
        found.append({DEPUTY})
    elif isinstance(rule, DeskRule):
        found.append({DESK_TEAM})
    return _alternatives(*found)


def matrix() -> list[Row]:
    """Every transition, then every named rule, with each role's cell."""
    rows = [
        Row(name, "transition", {role: transition_cell(spec, role) for role in ROLES})
        for name, spec in TRANSITIONS.items()
    ]
    rows += [Row(rule.name, "rule", {role: rule_cell(rule, role) for role in ROLES}) for rule in ALL_RULES]
    return rows


def row(action: str) -> Row:
    return next(candidate for candidate in matrix() if candidate.action == action)


def cell_text(alternatives: Alternatives) -> str:
    """`—` for never; `a + b` for relations that must all hold; `… or …` between alternatives."""
    if not alternatives:
        return "—"
    texts = [" + ".join(sorted(relations, key=_ORDER.__getitem__)) for relations in alternatives]
    if len(texts) > 1:
        texts = [f"({text})" if " + " in text else text for text in texts]
    return " or ".join(texts)


def matrix_markdown() -> str:
    """The matrix as a Markdown table: actions down, roles across."""
    lines = [
        "| action | kind | " + " | ".join(ROLES) + " |",
        "| --- | --- | " + " | ".join("---" for _role in ROLES) + " |",
    ]
    for entry in matrix():
        cells = " | ".join(cell_text(entry.cells[role]) for role in ROLES)
        lines.append(f"| `{entry.action}` | {entry.kind} | {cells} |")
    return "\n".join(lines) + "\n"


def document() -> str:
    """The whole of docs/authorization.md."""
    legend = "\n".join(f"| `{name}` | {text} |" for name, text in RELATIONS.items())
    return f"""# Authorization matrix

<!-- Generated by `manage.py authz_matrix --write docs/authorization.md` from taxservice/authz.py;
tests/test_authorization_matrix.py fails when this file differs. Do not edit by hand. -->

Who may do what, to which object. Every row is derived from the one place its rule is
declared: the transitions from their specs (`taxservice/workflow/cases/transitions.py`,
applied by `taxservice/workflow/cases/policy.py`), the other rows from the named rules of
`taxservice/access.py` that the pages (`staff_page(rule)`) and the API (`requires(rule)`)
ask. A cell lists what the actor needs besides the role: relations that must all hold
(`a + b`), alternatives (`… or …`); `—` means never.

On top of every cell: a transition is offered only in the states its FSM method allows
(`selectors.allowed_transitions`); API-only accounts (the integrator) open no page
(`access.can_use_web`); anonymous callers get the sign-in page (pages) or 401 (API). Another
branch's task or case is a 404 on its page and in the API alike, never a 403, so a refusal
does not reveal that it exists. `tests/test_authorization_matrix.py` runs every account of
a small organisation with two branches against every transition on tasks in every state,
every page and every API list, and compares with this table through its own reading of the
facts (roles, teams, branch scope, holder, the log's actors).

## Relations

| relation | meaning |
| --- | --- |
{legend}

## The matrix

{matrix_markdown()}"""
