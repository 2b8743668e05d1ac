"""Seed the item catalogue (事项清单) with the default lists the product ships.

docs/domain.md §3, §4 and §8: the three lists by handling scenario (一问即办 / 一问辅办 /
一问联办), the 18 items moved forward to the middle office (事项前移), and a few grid
fallback items. Every value here is data an administrator may edit afterwards.

The data is embedded on purpose: a migration must not import application modules
that can change later. Code scheme (max 16 characters):

- JB001.. 一问即办, front desk, on the spot (time limit 0);
- FB001.. 一问辅办 handled by the city teams (not moved forward);
- QY001..QY018 一问辅办 moved forward from the back office (前移), dispatched staff;
- LB001.. 一问联办, back office (tax-source branch teams);
- WG001.. grid fallback items (网格兜底).

The reverse operation deletes exactly the codes added here.
"""

from django.db import migrations

IMMEDIATE = "immediate"
ASSISTED = "assisted"
JOINT = "joint"

# (code, name, handling_list, tier, team_kind, steps, time_limit_days,
#  moved_forward, high_frequency, needs_approval)
ITEMS = [
    # --- 一问即办: front desk, hall windows, handled on the spot ---
    ("JB001", "发票领用", IMMEDIATE, "front", "hall", ["身份核验", "票种核定确认", "发票发放"], 0, False, True, False),
    ("JB002", "发票代开", IMMEDIATE, "front", "hall", ["资料审核", "税款征收", "发票开具"], 0, False, True, False),
    ("JB003", "涉税信息查询", IMMEDIATE, "front", "hall", ["身份核验", "信息查询", "结果告知"], 0, False, True, False),
    ("JB004", "完税证明开具", IMMEDIATE, "front", "hall", ["身份核验", "缴款信息核对", "证明开具"], 0, False, True, False),
    ("JB005", "申报表更正（即办）", IMMEDIATE, "front", "hall", ["更正原因确认", "申报表更正", "税款补退"], 0, False, True, False),
    ("JB006", "税务登记信息变更", IMMEDIATE, "front", "hall", ["资料审核", "信息变更", "结果告知"], 0, False, True, False),
    ("JB007", "存量房交易申报", IMMEDIATE, "front", "hall", ["合同核验", "计税价格确认", "税款征收", "完税凭证开具"], 0, False, True, False),
    ("JB008", "个人所得税汇算咨询", IMMEDIATE, "front", "hall", ["问题受理", "政策解答", "辅导申报"], 0, False, True, False),
    ("JB009", "税控设备发行/变更", IMMEDIATE, "front", "hall", ["资料审核", "设备发行", "结果告知"], 0, False, False, False),
    ("JB010", "发票缴销", IMMEDIATE, "front", "hall", ["发票查验", "缴销处理"], 0, False, False, False),
    ("JB011", "社会保险费缴费申报", IMMEDIATE, "front", "hall", ["信息核对", "申报缴费", "凭证打印"], 0, False, True, False),
    ("JB012", "车辆购置税申报", IMMEDIATE, "front", "hall", ["车辆信息核验", "计税确认", "税款征收", "完税信息传递"], 0, False, True, False),
    ("JB013", "印花税申报", IMMEDIATE, "front", "hall", ["申报受理", "税款征收"], 0, False, False, False),
    ("JB014", "实名办税信息采集", IMMEDIATE, "front", "hall", ["身份核验", "人脸采集", "信息确认"], 0, False, False, False),
    ("JB015", "财务会计制度备案", IMMEDIATE, "front", "hall", ["资料审核", "备案登记"], 0, False, False, False),
    # --- 一问辅办: middle office, city teams (business escalated to city level, 业务提级办) ---
    ("FB001", "出口退税申报审核", ASSISTED, "middle", "online_processing", ["申报受理", "疑点审核", "审批", "退库"], 5, False, True, True),
    ("FB002", "跨区域涉税事项报告", ASSISTED, "middle", "online_processing", ["报告受理", "信息核对", "报告确认"], 3, False, True, False),
    ("FB003", "增值税留抵退税", ASSISTED, "middle", "online_processing", ["申请受理", "风险扫描", "审核", "审批", "退库"], 10, False, True, True),
    ("FB004", "研发费用加计扣除辅导", ASSISTED, "middle", "expert", ["需求受理", "政策辅导", "归集核对", "辅导反馈"], 5, False, False, False),
    ("FB005", "12366热线转办件", ASSISTED, "middle", "online_consultation", ["工单受理", "问题办理", "答复纳税人"], 3, False, True, False),
    ("FB006", "12345工单办理", ASSISTED, "middle", "online_consultation", ["工单签收", "调查核实", "办理答复", "回访"], 5, False, True, False),
    ("FB007", "投诉处理", ASSISTED, "middle", "online_consultation", ["投诉受理", "调查核实", "处理答复", "回访"], 10, False, False, False),
    ("FB008", "差评核实整改", ASSISTED, "middle", "online_consultation", ["差评核实", "整改", "回访"], 7, False, False, False),
    ("FB009", "税收居民身份证明开具", ASSISTED, "middle", "online_processing", ["申请受理", "资料审核", "审批", "证明开具"], 7, False, False, True),
    ("FB010", "服务贸易等项目对外支付税务备案", ASSISTED, "middle", "online_processing", ["备案受理", "资料核对", "备案确认"], 3, False, False, False),
    ("FB011", "复杂涉税事项专家会诊", ASSISTED, "middle", "expert", ["问题受理", "专家会诊", "出具意见"], 10, False, False, False),
    # --- 一问辅办: the 18 items moved forward to the middle office (事项前移) ---
    ("QY001", "纳税人归类管理", ASSISTED, "middle", "dispatched", ["数据核对", "归类调整", "结果告知"], 5, True, True, False),
    ("QY002", "非即办逾期申报", ASSISTED, "middle", "dispatched", ["逾期原因核实", "补充申报", "处罚处理"], 3, True, True, False),
    ("QY003", "非正常户认定/解除", ASSISTED, "middle", "dispatched", ["状态核实", "认定或解除", "审批", "结果告知"], 5, True, False, True),
    ("QY004", "未按期申报催报", ASSISTED, "middle", "dispatched", ["清册推送", "催报", "结果登记"], 3, True, True, False),
    ("QY005", "欠税催缴", ASSISTED, "middle", "dispatched", ["欠税核对", "催缴通知", "入库跟踪"], 5, True, True, False),
    ("QY006", "税费种认定及调整", ASSISTED, "middle", "dispatched", ["资料审核", "认定调整", "审批"], 5, True, False, True),
    ("QY007", "定期定额核定/调整", ASSISTED, "middle", "dispatched", ["经营情况核实", "定额测算", "公示", "审批"], 10, True, False, True),
    ("QY008", "停业/复业", ASSISTED, "middle", "dispatched", ["申请受理", "资料审核", "登记办理"], 3, True, False, False),
    ("QY009", "清税注销核查", ASSISTED, "middle", "dispatched", ["未办结事项核查", "清税处理", "出具清税文书"], 5, True, True, False),
    ("QY010", "跨区域涉税事项反馈核销", ASSISTED, "middle", "dispatched", ["反馈信息核对", "核销"], 3, True, False, False),
    ("QY011", "登记信息疑点治理", ASSISTED, "middle", "dispatched", ["疑点核实", "信息修正", "结果登记"], 5, True, False, False),
    ("QY012", "申报比对异常", ASSISTED, "middle", "dispatched", ["比对异常核实", "纳税人说明", "处理登记"], 7, True, True, False),
    ("QY013", "发票额度调整审核", ASSISTED, "middle", "dispatched", ["申请受理", "用票情况核实", "审批"], 5, True, True, True),
    ("QY014", "一般纳税人登记核实", ASSISTED, "middle", "dispatched", ["登记资料核实", "核实意见", "审批"], 5, True, False, True),
    ("QY015", "优惠备案/资格后续核查", ASSISTED, "middle", "dispatched", ["备案资料调阅", "资格核查", "处理登记"], 10, True, False, False),
    ("QY016", "银行账户/三方协议异常", ASSISTED, "middle", "dispatched", ["异常核实", "联系纳税人", "协议重签"], 3, True, False, False),
    ("QY017", "纳税信用复评/修复", ASSISTED, "middle", "dispatched", ["申请受理", "失信行为核实", "复评修复", "审批"], 10, True, False, True),
    ("QY018", "税费种缺失/多余核实", ASSISTED, "middle", "dispatched", ["疑点核实", "税费种调整", "结果登记"], 5, True, False, False),
    # --- 一问联办: back office, tax-source branch teams ---
    ("LB001", "清税注销实地核查", JOINT, "back", "basic", ["任务派发", "实地核查", "核查报告", "审批"], 10, False, False, True),
    ("LB002", "税务稽查线索核实", JOINT, "back", "risk", ["线索接收", "调查核实", "核实报告", "审批"], 15, False, False, True),
    ("LB003", "风险应对", JOINT, "back", "risk", ["风险任务接收", "案头分析", "约谈或实地核查", "应对结论", "审批"], 15, False, True, True),
    ("LB004", "欠税公告", JOINT, "back", "coordination", ["欠税清册确认", "公告拟定", "审批", "公告发布"], 10, False, False, True),
    ("LB005", "纳税评估", JOINT, "back", "risk", ["评估对象确定", "案头审核", "约谈举证", "评估结论", "审批"], 20, False, False, True),
    ("LB006", "一般纳税人实地核查", JOINT, "back", "basic", ["任务派发", "实地核查", "核查意见", "审批"], 10, False, False, True),
    ("LB007", "重点税源企业走访", JOINT, "back", "service", ["走访计划", "上门走访", "问题登记", "反馈"], 10, False, False, False),
    ("LB008", "破产企业涉税事项办理", JOINT, "back", "coordination", ["申请受理", "债权申报", "涉税处理", "审批"], 20, False, False, True),
    ("LB009", "大额退税复核", JOINT, "back", "risk", ["退税资料调阅", "风险复核", "复核意见", "审批"], 10, False, False, True),
    # --- grid fallback items (网格兜底办) ---
    ("WG001", "网格上门辅导", ASSISTED, "grid", "grid", ["预约", "上门辅导", "回访"], 5, False, False, False),
    ("WG002", "就近办代收", ASSISTED, "grid", "grid", ["资料代收", "转交办理", "结果送达"], 3, False, False, False),
    ("WG003", "网格低风险事项提醒应对", ASSISTED, "grid", "grid", ["提醒推送", "纳税人响应", "结果登记"], 5, False, False, False),
]

CODES = [row[0] for row in ITEMS]


def add_items(apps, schema_editor):
    Item = apps.get_model("catalogue", "Item")
    existing = set(Item.objects.filter(code__in=CODES).values_list("code", flat=True))
    Item.objects.bulk_create(
        [
            Item(
                code=code,
                name=name,
                handling_list=handling_list,
                tier=tier,
                team_kind=team_kind,
                steps=list(steps),
                time_limit_days=time_limit_days,
                moved_forward=moved_forward,
                high_frequency=high_frequency,
                needs_approval=needs_approval,
                active=True,
            )
            for (
                code,
                name,
                handling_list,
                tier,
                team_kind,
                steps,
                time_limit_days,
                moved_forward,
                high_frequency,
                needs_approval,
            ) in ITEMS
            if code not in existing
        ]
    )


def remove_items(apps, schema_editor):
    Item = apps.get_model("catalogue", "Item")
    Item.objects.filter(code__in=CODES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("catalogue", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(add_items, remove_items),
    ]
