"""The item catalogue seeded by catalogue migration 0002 (事项清单, docs/domain.md §8)."""

import pytest

from taxservice.catalogue.models import HandlingList, Item
from taxservice.org.models import Team, Tier

MOVED_FORWARD = {
    "纳税人归类管理",
    "非即办逾期申报",
    "非正常户认定/解除",
    "未按期申报催报",
    "欠税催缴",
    "税费种认定及调整",
    "定期定额核定/调整",
    "停业/复业",
    "清税注销核查",
    "跨区域涉税事项反馈核销",
    "登记信息疑点治理",
    "申报比对异常",
    "发票额度调整审核",
    "一般纳税人登记核实",
    "优惠备案/资格后续核查",
    "银行账户/三方协议异常",
    "纳税信用复评/修复",
    "税费种缺失/多余核实",
}

pytestmark = pytest.mark.django_db


def seeded():
    """The seeded items only: other tests' fixtures may add their own items."""
    return Item.objects.filter(code__regex=r"^(JB|FB|QY|LB|WG)\d{3}$")


def test_it_ships_a_catalogue_of_at_least_forty_items():
    assert seeded().count() >= 40
    assert seeded().filter(active=True).count() == seeded().count()


def test_it_moves_forward_exactly_the_eighteen_items():
    moved = seeded().filter(moved_forward=True)
    names = list(moved.values_list("name", flat=True))
    assert len(names) == 18
    assert set(names) == MOVED_FORWARD
    assert set(moved.values_list("code", flat=True)) == {f"QY{n:03d}" for n in range(1, 19)}


def test_moved_forward_items_go_to_the_dispatched_staff_of_the_middle_office():
    for item in seeded().filter(moved_forward=True):
        assert item.handling_list == HandlingList.ASSISTED, item
        assert item.tier == Tier.MIDDLE, item
        assert item.team_kind == Team.Kind.DISPATCHED, item
        assert 3 <= item.time_limit_days <= 10, item
    decisions = {
        "非正常户认定/解除",
        "定期定额核定/调整",
        "发票额度调整审核",
        "纳税信用复评/修复",
        "税费种认定及调整",
        "一般纳税人登记核实",
    }
    assert set(seeded().filter(moved_forward=True, needs_approval=True).values_list("name", flat=True)) >= decisions


def test_all_three_lists_and_the_grid_are_present():
    lists = set(seeded().values_list("handling_list", flat=True))
    assert lists == set(HandlingList.values)
    assert seeded().filter(tier=Tier.GRID, team_kind=Team.Kind.GRID).exists()
    assert seeded().filter(handling_list=HandlingList.JOINT, tier=Tier.BACK).count() >= 5


def test_every_immediate_item_is_handled_on_the_spot_at_the_front_desk():
    immediate = seeded().filter(handling_list=HandlingList.IMMEDIATE)
    assert immediate.count() >= 10
    for item in immediate:
        assert item.time_limit_days == 0, item
        assert item.tier == Tier.FRONT, item
        assert not item.needs_approval, item


def test_every_non_immediate_item_has_a_time_limit_and_steps():
    for item in seeded():
        assert item.steps and all(isinstance(step, str) and step for step in item.steps), item
        if item.handling_list != HandlingList.IMMEDIATE:
            assert item.time_limit_days > 0, item


def test_every_team_kind_and_tier_is_valid():
    for item in seeded():
        assert item.team_kind in Team.Kind.values, item
        assert item.tier in Tier.values, item
        assert len(item.code) <= 16
    assert seeded().values("name").distinct().count() == seeded().count()
