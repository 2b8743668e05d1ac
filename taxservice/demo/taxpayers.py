"""Demo taxpayers: valid unified social credit codes and plausible names."""

from __future__ import annotations

import random

from stdnum.cn import uscc

from taxservice.org.models import Branch
from taxservice.taxpayers.models import Taxpayer

from .draw import weighted
from .organisation import SOURCES

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
# Administrative division codes used for the demo district (fictional but well-formed).
DIVISIONS = ("330108", "330109", "330110")
TRADE_CHARS = "恒达鑫盛华泰宏源瑞丰隆祥通博诚信嘉禾金汇鼎德远安康益新兴茂卓创立宇航天永明峰海润景福佳和正实中凯晟昊"
# Word lists for names, space-separated to keep them readable.
INDUSTRIES = tuple(
    "科技 贸易 建筑工程 餐饮管理 物流 电子 机械制造 食品 服装 房地产开发 信息技术 商贸 医药 文化传媒 教育咨询 "
    "环保科技 新材料 汽车销售 农业开发 装饰工程 网络科技 供应链管理 酒店管理 印务 化工 物业管理 人力资源 "
    "财务咨询 包装 五金".split()
)
COMPANY_FORMS = ("有限公司", "有限公司", "有限公司", "有限责任公司", "股份有限公司")
PLACE_PREFIXES = ("", "", "江城", "江城", "滨江", "浙江")
SHOPS = tuple("便利店 餐馆 五金店 理发店 水果店 服装店 小吃店 维修部 建材经营部 日用品商行 茶庄 药房".split())
NON_PROFITS = ("行业协会", "社区服务中心", "培训学校", "养老服务中心", "商会", "文化促进会")

CLASSIFICATIONS = [
    (Taxpayer.Classification.SMALL_SCALE, 50),
    (Taxpayer.Classification.GENERAL_VAT, 25),
    (Taxpayer.Classification.INDIVIDUAL_BUSINESS, 17),
    (Taxpayer.Classification.NON_PROFIT, 4),
    (Taxpayer.Classification.OTHER, 4),
]
GRADES = [("A", 15), ("B", 48), ("M", 22), ("C", 10), ("D", 5)]
SOURCE_WEIGHTS = [("SRC1", 40), ("SRC2", 35), ("SRC3", 25)]


def organisation_code(rng: random.Random) -> str:
    """The 9-character organisation code inside a USCC, with its GB 11714 check character.

    New registrations carry "MA" codes; older ones an eight-digit code. Only characters of
    the USCC alphabet are used, so the whole credit code stays canonical.
    """
    letters = USCC_ALPHABET[10:]
    while True:
        if rng.random() < 0.6:
            body = "MA" + "".join(rng.choice(USCC_ALPHABET) for _ in range(6))
        else:
            body = "".join(rng.choice("0123456789") for _ in range(8))
        weights = (3, 7, 9, 10, 5, 8, 4, 2)
        total = sum((int(c) if c.isdigit() else ord(c) - ord("A") + 10) * w for c, w in zip(body, weights, strict=True))
        check = 11 - total % 11
        char = "X" if check == 10 else "0" if check == 11 else str(check)
        if char.isdigit() or char in letters:
            return body + char


def credit_code(rng: random.Random, classification: str) -> str:
    """A valid unified social credit code (GB 32100-2015) for a taxpayer of `classification`."""
    if classification == Taxpayer.Classification.INDIVIDUAL_BUSINESS:
        kind = "92"  # market regulator, individual business
    elif classification == Taxpayer.Classification.NON_PROFIT:
        kind = rng.choice(("52", "53"))  # civil affairs: private non-enterprise unit, foundation
    else:
        kind = "91"  # market regulator, enterprise
    body = kind + rng.choice(DIVISIONS) + organisation_code(rng)
    return body + uscc.calc_check_digit(body)


def company_name(rng: random.Random, classification: str) -> str:
    trade = "".join(rng.sample(TRADE_CHARS, 2))
    if classification == Taxpayer.Classification.INDIVIDUAL_BUSINESS:
        return f"滨江区{trade}{rng.choice(SHOPS)}"
    if classification == Taxpayer.Classification.NON_PROFIT:
        return f"江城市滨江区{trade}{rng.choice(NON_PROFITS)}"
    return f"{rng.choice(PLACE_PREFIXES)}{trade}{rng.choice(INDUSTRIES)}{rng.choice(COMPANY_FORMS)}"


def build_taxpayers(rng: random.Random, count: int, *, branches: dict[str, Branch]) -> list[Taxpayer]:
    """Create `count` taxpayers of the demo's tax-source branches; return every taxpayer of
    those branches, by credit code."""
    codes: set[str] = set()
    names: set[str] = set()
    rows = []
    for _ in range(count):
        classification = weighted(rng, CLASSIFICATIONS)
        code = credit_code(rng, classification)
        while code in codes:
            code = credit_code(rng, classification)
        codes.add(code)
        name = company_name(rng, classification)
        while name in names:
            name = company_name(rng, classification)
        names.add(name)
        rows.append(
            Taxpayer(
                credit_code=code,
                name=name,
                competent_branch=branches[weighted(rng, SOURCE_WEIGHTS)],
                classification=classification,
                grade=weighted(rng, GRADES),
            )
        )
    # Skip any code another taxpayer already holds: the demo never overwrites real data.
    taken = set(Taxpayer.objects.filter(credit_code__in=codes).values_list("credit_code", flat=True))
    Taxpayer.objects.bulk_create([row for row in rows if row.credit_code not in taken], batch_size=500)
    return list(
        Taxpayer.objects.filter(competent_branch__code__in=SOURCES)
        .select_related("competent_branch")
        .order_by("credit_code")
    )
