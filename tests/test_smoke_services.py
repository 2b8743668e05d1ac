import pytest

from taxservice.workflow.cases import services
from taxservice.workflow.cases.models import Case


@pytest.mark.django_db
def test_an_assisted_item_goes_from_transfer_to_closed_case(org, open_case):
    case = open_case("assisted")
    task = case.tasks.get()
    services.task_transition(task_id=task.pk, actor=org.clerk, name="transfer")
    services.task_transition(task_id=task.pk, actor=org.member, name="assign")
    services.task_transition(task_id=task.pk, actor=org.member, name="accept")
    services.task_transition(task_id=task.pk, actor=org.member, name="complete", result="ok")
    task = services.task_transition(task_id=task.pk, actor=org.member, name="give_feedback", result="已告知")
    assert task.state == "closed"
    case.refresh_from_db()
    assert case.state == Case.State.CLOSED
    assert list(task.transitions.values_list("transition", flat=True)) == [
        "receive",
        "transfer",
        "assign",
        "accept",
        "complete",
        "give_feedback",
    ]
