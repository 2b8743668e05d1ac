"""Demo classification data (分类分级): every demo taxpayer gets a kind, an industry, a scale
and a risk level, then the product's own recomputation grades them with the rules in force."""

from __future__ import annotations

import random
from collections import defaultdict

from taxservice.audit import AppendOnly
from taxservice.taxpayers.classification_services import classification_run, classification_run_start
from taxservice.taxpayers.models import Kind, RiskLevel, Scale, Taxpayer, TaxpayerGradeChange

from .draw import weighted

# Words of the demo names -> a GB/T 4754 section code (门类), the first match in this order.
INDUSTRY_WORDS = (
    ("信息技术", "I"), ("网络科技", "I"), ("科技", "I"), ("房地产", "K"), ("物业", "K"), ("建筑", "E"),
    ("装饰工程", "E"), ("餐饮", "H"), ("酒店", "H"), ("餐馆", "H"), ("小吃", "H"), ("物流", "G"),
    ("供应链", "G"), ("贸易", "F"), ("商贸", "F"), ("汽车销售", "F"), ("便利店", "F"), ("商行", "F"),
    ("药房", "F"), ("水果", "F"), ("服装店", "F"), ("五金店", "F"), ("建材", "F"), ("茶庄", "F"),
    ("农业", "A"), ("文化传媒", "R"), ("教育", "P"), ("培训", "P"), ("环保", "N"), ("人力资源", "L"),
    ("财务咨询", "L"), ("协会", "S"), ("商会", "S"), ("促进会", "S"), ("理发", "O"), ("维修", "O"),
    ("养老", "Q"), ("社区", "S"),
)  # fmt: skip
MANUFACTURING = "C"  # 电子, 机械制造, 食品, 服装, 新材料, 化工, 包装, 印务, 五金, 医药 …
SCALES = {
    Taxpayer.Classification.GENERAL_VAT: [(Scale.LARGE, 12), (Scale.MEDIUM, 38), (Scale.SMALL, 40), (Scale.MICRO, 10)],
    Taxpayer.Classification.SMALL_SCALE: [(Scale.SMALL, 45), (Scale.MICRO, 55)],
}
RISKS = [(RiskLevel.LOW, 80), (RiskLevel.MEDIUM, 14), (RiskLevel.HIGH, 6)]


def industry_of(name: str) -> str:
    return next((code for word, code in INDUSTRY_WORDS if word in name), MANUFACTURING)


def classify_demo_taxpayers(taxpayers: list[Taxpayer], *, seed: int) -> None:
    """Fill the classification data of `taxpayers` (a random stream of its own, so the rest of
    the demo draws the same as before) and grade every taxpayer with the product's run."""
    rng = random.Random(f"classification-{seed}")
    groups: dict[tuple[str, str, str, str], list[int]] = defaultdict(list)
    for taxpayer in taxpayers:
        if taxpayer.classification == Taxpayer.Classification.INDIVIDUAL_BUSINESS:
            kind, scale = Kind.INDIVIDUAL_BUSINESS, Scale.MICRO
        else:
            kind = Kind.ENTERPRISE
            scale = weighted(rng, SCALES.get(taxpayer.classification, [(Scale.SMALL, 60), (Scale.MICRO, 40)]))
        groups[(kind, industry_of(taxpayer.name), scale, weighted(rng, RISKS))].append(taxpayer.pk)
    for (kind, industry, scale, risk), ids in groups.items():
        Taxpayer.objects.filter(pk__in=ids).update(kind=kind, industry=industry, scale=scale, risk_level=risk)
    run = classification_run_start(actor=None, cause="Demo data", background=False)
    classification_run(run_id=run.pk)


def delete_demo_classification(*, taxpayers: list[int]) -> None:
    """The demo taxpayers' grade history, before the taxpayers themselves go (the runs stay)."""
    AppendOnly.purge(TaxpayerGradeChange.objects.filter(taxpayer_id__in=taxpayers))
