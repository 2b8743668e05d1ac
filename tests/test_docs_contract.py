"""docs/state-machine.md's table of who may make each transition says what the specs say."""

from __future__ import annotations

import re
from pathlib import Path

from taxservice.workflow.cases.transitions import TRANSITIONS

DOC = Path(__file__).resolve().parent.parent / "docs" / "state-machine.md"


def _roles_table() -> dict[str, set[str]]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Who may make each transition", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(\w+)` \| ([^|]+) \|", section, flags=re.M)
    return {name: {role.strip().replace(" ", "_") for role in roles.split(",")} for name, roles in rows}


def test_the_documented_roles_are_the_specs_roles():
    documented = _roles_table()
    assert set(documented) == set(TRANSITIONS)
    for name, spec in TRANSITIONS.items():
        assert documented[name] == set(spec.roles), name
