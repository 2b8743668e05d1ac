"""What happens to the demo's cases: channels, end states, the steps to reach them, and texts.

Pure draws from the demo's generator; `cases.py` plays them through the services.
"""

from __future__ import annotations

import random

from taxservice.catalogue.models import HandlingList, Item
from taxservice.org.models import Tier
from taxservice.workflow.cases.models import Channel, TaskState

from .draw import weighted

# Scenario end states the first cases are forced to, so that every state appears.
FORCED_STATES = [
    TaskState.RECEIVED,
    TaskState.QUEUED,
    TaskState.ASSIGNED,
    TaskState.IN_PROGRESS,
    TaskState.AWAITING_MATERIALS,
    TaskState.AWAITING_APPROVAL,
    TaskState.DONE,
    TaskState.CLOSED,
    TaskState.CANCELLED,
]

CHANNELS = [
    (Channel.HALL_WINDOW, 46),
    (Channel.ONLINE_INTERACTION, 18),
    (Channel.ETAX_APP, 10),
    (Channel.PHONE_12366, 10),
    (Channel.HOTLINE_12345, 6),
    (Channel.REMOTE_VIDEO, 5),
    (Channel.SERVICE_POINT, 5),
]
# End states of a transferred task, by weight; the builder falls back where a state does not fit the item.
TRANSFERRED_TARGETS = [
    (TaskState.CLOSED, 50),
    (TaskState.DONE, 9),
    (TaskState.CANCELLED, 4),
    (TaskState.QUEUED, 8),
    (TaskState.ASSIGNED, 7),
    (TaskState.IN_PROGRESS, 10),
    (TaskState.AWAITING_MATERIALS, 5),
    (TaskState.AWAITING_APPROVAL, 7),
]
IMMEDIATE_TARGETS = [(TaskState.CLOSED, 93), (TaskState.RECEIVED, 3), (TaskState.CANCELLED, 4)]

ON_SPOT_RESULTS = ("已当场办结，资料已交纳税人", "已即时办理完毕", "已当场办结并告知办理结果", "已按即办流程办结")
COMPLETE_RESULTS = ("已按规定办理完毕", "核实无误，办理完成", "已处理并登记结果", "经核实已整改到位")
APPROVAL_RESULTS = ("拟同意，请审批", "核实情况属实，提请审批", "已形成处理意见，提请审批")
# How the result goes back to the taxpayer depends on how they came.
FEEDBACK_RESULTS = {
    Channel.HALL_WINDOW: ("已窗口出件", "办理结果已当面告知纳税人"),
    Channel.PHONE_12366: ("已电话告知纳税人办理结果", "已通过12366回电答复"),
    Channel.ONLINE_INTERACTION: ("已通过征纳互动平台反馈结果",),
    Channel.ETAX_APP: ("已通过电子税务局推送办理结果",),
    Channel.HOTLINE_12345: ("已答复12345热线并回访纳税人",),
    Channel.REMOTE_VIDEO: ("已通过远程视频告知办理结果",),
    Channel.SERVICE_POINT: ("已由便民办税服务点送达结果",),
}
REASSIGN_REASONS = ("人员请假，调整承办人", "按工作量调整承办人", "需熟悉该行业的人员承办")
RETURN_REASONS = ("非本人业务范围，退回重新分派", "临时外出实地核查，退回由他人办理", "手头任务已饱和，申请改派")
ESCALATE_REASONS = ("需实地核查，转后台团队办理", "涉及风险疑点，提交后台联办", "需税源管理分局核实经营情况")
REJECT_REASONS = ("核实依据不充分，请补充", "处理意见不明确，请完善后再提交", "资料不全，请补充核实意见")
CANCEL_REASONS = ("纳税人撤回申请", "重复提交，已合并办理", "纳税人已通过电子税务局自行办结")
EXTENSION_REASONS = ("需实地核查，时间不足", "涉及多部门联办，需延长办理时限", "纳税人补充资料耗时较长")
EXTENSION_OPINIONS = ("同意延期", "情况属实，同意", "")
EXTENSION_REFUSALS = ("时限内可以完成，请抓紧办理", "理由不充分，不予延期")
MATERIALS_REASONS = ("请纳税人补正资料", "缺少财务报表，已通知纳税人补充", "待纳税人提供情况说明")
NOTES = ("", "", "", "纳税人来电咨询", "纳税人首次办理，已做政策辅导", "异地经营，申请异厅通办", "纳税人要求尽快办理")


def target_for(rng: random.Random, item: Item) -> str:
    """The state a task of `item` is taken to."""
    if item.handling_list == HandlingList.IMMEDIATE:
        return weighted(rng, IMMEDIATE_TARGETS)
    target = weighted(rng, TRANSFERRED_TARGETS)
    if target == TaskState.AWAITING_APPROVAL and not item.needs_approval:
        target = TaskState.IN_PROGRESS
    return target


def plan(rng: random.Random, item: Item, target: str) -> list[str]:
    """The transitions after "receive" that take a task of `item` to `target`.

    "assign" steps are skipped at run time when the robot has already dispatched
    the task, so a task the robot handles never stays queued.
    """
    if item.handling_list == HandlingList.IMMEDIATE:
        return {TaskState.RECEIVED: [], TaskState.CANCELLED: ["cancel"]}.get(target, ["handle_on_spot"])
    if target == TaskState.RECEIVED:
        return []
    if target == TaskState.CANCELLED:
        return rng.choice([["cancel"], ["transfer", "cancel"], ["transfer", "assign", "accept", "cancel"]])
    steps = ["transfer"]
    if target == TaskState.QUEUED:
        return steps + (["assign", "return"] if rng.random() < 0.25 else [])
    steps.append("assign")
    roll = rng.random()
    if roll < 0.07:
        steps += ["return", "assign"]
    elif roll < 0.12:
        steps += ["reassign"]
    if target == TaskState.ASSIGNED:
        return steps
    steps.append("accept")
    if item.tier == Tier.MIDDLE and rng.random() < 0.08:
        steps += ["escalate", "assign", "accept"]
    if target == TaskState.AWAITING_MATERIALS:
        return steps + ["request_materials"]
    if rng.random() < 0.18:
        steps += ["request_materials", "receive_materials"]
    if item.tier == Tier.BACK:
        # Back-office work asks the branch chief for more time now and then.
        roll = rng.random()
        if roll < 0.25:
            steps += ["request_extension", "approve_extension"]
        elif roll < 0.35:
            steps += ["request_extension", "reject_extension"]
        elif roll < 0.8 and target == TaskState.IN_PROGRESS:
            steps += ["request_extension"]  # still waiting for the chief
    if target == TaskState.IN_PROGRESS:
        return steps
    if item.needs_approval:
        steps.append("submit_for_approval")
        if target == TaskState.AWAITING_APPROVAL:
            return steps
        if rng.random() < 0.15:
            steps += ["reject", "submit_for_approval"]
        steps.append("approve")
    else:
        steps.append("complete")
    if target == TaskState.DONE:
        return steps
    return steps + ["give_feedback"]


def texts(rng: random.Random, name: str, *, channel: str) -> dict:
    """The result or reason a step of `name` is made with."""
    if name == "handle_on_spot":
        return {"result": rng.choice(ON_SPOT_RESULTS)}
    if name == "complete":
        return {"result": rng.choice(COMPLETE_RESULTS)}
    if name == "submit_for_approval":
        return {"result": rng.choice(APPROVAL_RESULTS)}
    if name == "give_feedback":
        return {"result": rng.choice(FEEDBACK_RESULTS.get(channel, ("办理结果已告知纳税人",)))}
    if name == "request_extension":
        return {"days": rng.randint(1, 5), "reason": rng.choice(EXTENSION_REASONS)}
    reasons = {
        "approve_extension": EXTENSION_OPINIONS,
        "reject_extension": EXTENSION_REFUSALS,
        "return": RETURN_REASONS,
        "reassign": REASSIGN_REASONS,
        "escalate": ESCALATE_REASONS,
        "reject": REJECT_REASONS,
        "cancel": CANCEL_REASONS,
        "request_materials": MATERIALS_REASONS,
    }.get(name)
    return {"reason": rng.choice(reasons)} if reasons else {}


# A remote channel's own number for the contact, as its platform would give it.
REFERENCE_PREFIXES = {
    Channel.PHONE_12366: "12366-",
    Channel.ONLINE_INTERACTION: "ZNHD",
    Channel.ETAX_APP: "DZSWJ",
    Channel.REMOTE_VIDEO: "YCSP",
    Channel.HOTLINE_12345: "12345-GD",
}


def channel_reference(rng: random.Random, channel: str) -> str:
    """A call, chat or ticket number for a remote contact ("" for a channel without one)."""
    prefix = REFERENCE_PREFIXES.get(channel)
    return f"{prefix}{rng.randrange(10**9, 10**10)}" if prefix else ""
