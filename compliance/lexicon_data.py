"""The default lexicon, built from the prohibited-content rules in shared/DOMAIN.md.

Each entry: (pattern, is_regex, language, category, severity, negation_suppresses, source).
Codes are assigned per language and category by ``default_rules`` (ZH-GUAR-001, ...), so
they are stable as long as entries are appended. ``lexicon_load_defaults`` inserts the
ones missing (used by the data migration and the ``compliance_scan --load-defaults`` path).
"""

from __future__ import annotations

from .constants import Category as C
from .constants import Severity as S
from .scanner import RuleSpec

AMR = "资管新规(2018)：不得承诺保本保收益"
SALES25 = "《理财公司理财产品销售管理暂行办法》(2021)第25条"
AD9 = "广告法第9条、第25条"
SUIT = "适当性管理办法；银行业从业人员行为准则"
CONDUCT = "银行业从业人员职业操守和行为准则"

CODE_PREFIX = {
    C.GUARANTEE: "GUAR",
    C.RETURN_FORECAST: "FCST",
    C.DEPOSIT_CONFUSION: "DEPO",
    C.SUPERLATIVE: "SUPR",
    C.TIME_PRESSURE: "TIME",
    C.INDUCEMENT: "GIFT",
    C.BUNDLING: "BUND",
    C.DISPARAGING: "DISP",
    C.FREQUENT_TRADING: "FREQ",
    C.SUITABILITY_EVASION: "SUIT",
    C.CREDENTIALS: "CRED",
    C.OFF_CHANNEL: "OFFC",
    C.ALLOW: "ALLOW",
}

H, M, L = S.HIGH, S.MEDIUM, S.LOW

ENTRIES: list[tuple[str, bool, str, str, str, bool, str]] = [
    # --- guarantee of principal or return (保本保收益) ---
    ("保本", False, "zh", C.GUARANTEE, H, True, AMR),
    ("保本保息", False, "zh", C.GUARANTEE, H, True, AMR),
    ("保收益", False, "zh", C.GUARANTEE, H, True, AMR),
    ("保证收益", False, "zh", C.GUARANTEE, H, True, AMR),
    ("保证本金", False, "zh", C.GUARANTEE, H, True, AMR),
    ("本金安全", False, "zh", C.GUARANTEE, H, True, AMR),
    ("本金不会亏", False, "zh", C.GUARANTEE, H, True, AMR),
    ("本金不会损失", False, "zh", C.GUARANTEE, H, True, AMR),
    ("稳赚不赔", False, "zh", C.GUARANTEE, H, True, AMR),
    ("稳赚", False, "zh", C.GUARANTEE, H, True, AMR),
    ("只赚不赔", False, "zh", C.GUARANTEE, H, True, AMR),
    ("无风险", False, "zh", C.GUARANTEE, H, True, AMR),
    ("没有风险", False, "zh", C.GUARANTEE, H, True, AMR),
    ("没风险", False, "zh", C.GUARANTEE, H, True, AMR),
    ("零风险", False, "zh", C.GUARANTEE, H, True, AMR),
    ("刚性兑付", False, "zh", C.GUARANTEE, H, True, AMR),
    ("刚兑", False, "zh", C.GUARANTEE, H, True, AMR),
    ("亏了我们赔", False, "zh", C.GUARANTEE, H, True, AMR),
    ("亏了银行赔", False, "zh", C.GUARANTEE, H, True, AMR),
    ("亏损由我们承担", False, "zh", C.GUARANTEE, H, True, AMR),
    ("承诺收益", False, "zh", C.GUARANTEE, H, True, AMR),
    ("保底收益", False, "zh", C.GUARANTEE, H, True, AMR),
    ("保底", False, "zh", C.GUARANTEE, H, True, AMR),
    ("绝对安全", False, "zh", C.GUARANTEE, H, True, AMR),
    ("百分之百安全", False, "zh", C.GUARANTEE, H, True, AMR),
    ("100%安全", False, "zh", C.GUARANTEE, H, True, AMR),
    ("不会亏本", False, "zh", C.GUARANTEE, H, True, AMR),
    ("不会亏钱", False, "zh", C.GUARANTEE, H, True, AMR),
    ("亏不了", False, "zh", C.GUARANTEE, H, True, AMR),
    ("肯定赚", False, "zh", C.GUARANTEE, H, True, AMR),
    ("一定赚", False, "zh", C.GUARANTEE, H, True, AMR),
    ("收益有保障", False, "zh", C.GUARANTEE, H, True, AMR),
    ("银行兜底", False, "zh", C.GUARANTEE, H, True, AMR),
    (r"(?:本金|本钱)(?:绝对|肯定|一定|保证)?(?:不会|不可能)(?:亏|损失|少)", True, "zh", C.GUARANTEE, H, True, AMR),
    # --- return forecast / benchmark presented as the return ---
    ("预期收益率", False, "zh", C.RETURN_FORECAST, H, True, SALES25),
    ("预期收益", False, "zh", C.RETURN_FORECAST, M, True, SALES25),
    ("预计收益", False, "zh", C.RETURN_FORECAST, M, True, SALES25),
    ("到期一定能拿到", False, "zh", C.RETURN_FORECAST, H, True, SALES25),
    ("一定能拿到", False, "zh", C.RETURN_FORECAST, H, True, SALES25),
    ("肯定能拿到", False, "zh", C.RETURN_FORECAST, H, True, SALES25),
    ("至少能赚", False, "zh", C.RETURN_FORECAST, H, True, SALES25),
    ("基准就是收益", False, "zh", C.RETURN_FORECAST, H, True, SALES25),
    ("业绩基准就是您的收益", False, "zh", C.RETURN_FORECAST, H, True, SALES25),
    ("稳定收益", False, "zh", C.RETURN_FORECAST, M, True, SALES25),
    ("固定收益", False, "zh", C.RETURN_FORECAST, M, True, SALES25),
    (
        r"(?:一定|肯定|保证|绝对|稳)能?(?:拿到|赚到|获得|达到|有)\s*(?:年化)?\s*\d+(?:\.\d+)?\s*(?:%|个点|厘)",
        True,
        "zh",
        C.RETURN_FORECAST,
        H,
        True,
        SALES25,
    ),
    (r"收益(?:率)?(?:肯定|一定|保证)(?:是|有|在|能)", True, "zh", C.RETURN_FORECAST, H, True, SALES25),
    # --- confusion with deposits ---
    ("跟存款一样", False, "zh", C.DEPOSIT_CONFUSION, H, True, SALES25),
    ("和存款一样", False, "zh", C.DEPOSIT_CONFUSION, H, True, SALES25),
    ("等同于存款", False, "zh", C.DEPOSIT_CONFUSION, H, True, SALES25),
    ("相当于存款", False, "zh", C.DEPOSIT_CONFUSION, H, True, SALES25),
    ("就是存款", False, "zh", C.DEPOSIT_CONFUSION, H, True, SALES25),
    ("比存款还安全", False, "zh", C.DEPOSIT_CONFUSION, H, True, SALES25),
    ("跟定期一样", False, "zh", C.DEPOSIT_CONFUSION, H, True, SALES25),
    ("和定期一样", False, "zh", C.DEPOSIT_CONFUSION, H, True, SALES25),
    ("有存款保险", False, "zh", C.DEPOSIT_CONFUSION, H, True, SALES25),
    ("存款保险保障", False, "zh", C.DEPOSIT_CONFUSION, H, True, SALES25),
    ("受存款保险保护", False, "zh", C.DEPOSIT_CONFUSION, H, True, SALES25),
    ("当存款", False, "zh", C.DEPOSIT_CONFUSION, M, True, SALES25),
    # --- absolute / superlative claims ---
    ("最好的产品", False, "zh", C.SUPERLATIVE, M, True, AD9),
    ("最好的理财", False, "zh", C.SUPERLATIVE, M, True, AD9),
    ("收益最高", False, "zh", C.SUPERLATIVE, M, True, AD9),
    ("最高收益", False, "zh", C.SUPERLATIVE, M, True, AD9),
    ("最安全", False, "zh", C.SUPERLATIVE, M, True, AD9),
    ("行业第一", False, "zh", C.SUPERLATIVE, M, True, AD9),
    ("全国第一", False, "zh", C.SUPERLATIVE, M, True, AD9),
    ("排名第一", False, "zh", C.SUPERLATIVE, M, True, AD9),
    ("名列前茅", False, "zh", C.SUPERLATIVE, M, True, AD9),
    ("业内领先", False, "zh", C.SUPERLATIVE, L, True, AD9),
    ("顶级", False, "zh", C.SUPERLATIVE, L, True, AD9),
    ("独一无二", False, "zh", C.SUPERLATIVE, L, True, AD9),
    ("绝无仅有", False, "zh", C.SUPERLATIVE, L, True, AD9),
    ("万无一失", False, "zh", C.SUPERLATIVE, H, True, AD9),
    ("最稳", False, "zh", C.SUPERLATIVE, M, True, AD9),
    # --- time pressure ---
    ("额度有限", False, "zh", C.TIME_PRESSURE, M, True, SALES25),
    ("错过再等一年", False, "zh", C.TIME_PRESSURE, M, True, SALES25),
    ("错过就没有了", False, "zh", C.TIME_PRESSURE, M, True, SALES25),
    ("马上售罄", False, "zh", C.TIME_PRESSURE, M, True, SALES25),
    ("即将售罄", False, "zh", C.TIME_PRESSURE, M, True, SALES25),
    ("限时抢购", False, "zh", C.TIME_PRESSURE, M, True, SALES25),
    ("名额有限", False, "zh", C.TIME_PRESSURE, M, True, SALES25),
    ("先到先得", False, "zh", C.TIME_PRESSURE, M, True, SALES25),
    ("手慢无", False, "zh", C.TIME_PRESSURE, M, True, SALES25),
    ("最后机会", False, "zh", C.TIME_PRESSURE, M, True, SALES25),
    ("过了这村没这店", False, "zh", C.TIME_PRESSURE, M, True, SALES25),
    (r"今天不(?:买|下单|抢)就", True, "zh", C.TIME_PRESSURE, M, False, SALES25),
    # --- gifts, lotteries, kickbacks ---
    ("赠送", False, "zh", C.INDUCEMENT, M, True, SALES25),
    ("送礼品", False, "zh", C.INDUCEMENT, M, True, SALES25),
    ("送您", False, "zh", C.INDUCEMENT, M, True, SALES25),
    ("抽奖", False, "zh", C.INDUCEMENT, M, True, SALES25),
    ("返现", False, "zh", C.INDUCEMENT, H, True, SALES25),
    ("加息券", False, "zh", C.INDUCEMENT, M, True, SALES25),
    ("返佣", False, "zh", C.INDUCEMENT, H, True, SALES25),
    ("返点", False, "zh", C.INDUCEMENT, H, True, SALES25),
    ("返利", False, "zh", C.INDUCEMENT, H, True, SALES25),
    ("回扣", False, "zh", C.INDUCEMENT, H, True, SALES25),
    ("红包", False, "zh", C.INDUCEMENT, M, True, SALES25),
    ("现金奖励", False, "zh", C.INDUCEMENT, M, True, SALES25),
    ("私下补贴", False, "zh", C.INDUCEMENT, H, True, SALES25),
    # --- bundling ---
    ("捆绑销售", False, "zh", C.BUNDLING, H, True, SALES25),
    ("搭售", False, "zh", C.BUNDLING, H, True, SALES25),
    ("搭配购买", False, "zh", C.BUNDLING, M, True, SALES25),
    (
        r"(?:买|购买|认购)(?:了|一笔|点)?.{0,6}(?:理财|基金|保险).{0,6}(?:才|就)(?:能|可以|给|好)?.{0,4}(?:贷款|放款|批|审批|额度|办卡)",
        True,
        "zh",
        C.BUNDLING,
        H,
        True,
        SALES25,
    ),
    (r"(?:贷款|放款|审批|额度).{0,8}(?:需要|得|必须)(?:先)?(?:买|购买|认购)", True, "zh", C.BUNDLING, H, True, SALES25),
    # --- disparaging other institutions ---
    (
        r"(?:别家|别的|其他|他们|那家|隔壁)(?:银行|机构|券商|平台|基金公司|公司)(?:的产品)?.{0,6}"
        r"(?:不靠谱|骗人|是坑|坑人|要倒闭|快倒闭|不行|很差|垃圾|不安全|有问题|靠不住)",
        True,
        "zh",
        C.DISPARAGING,
        M,
        True,
        CONDUCT,
    ),
    ("别家都是坑", False, "zh", C.DISPARAGING, M, True, CONDUCT),
    ("同业都不行", False, "zh", C.DISPARAGING, M, True, CONDUCT),
    # --- inducing frequent trading ---
    ("频繁交易", False, "zh", C.FREQUENT_TRADING, M, True, SUIT),
    ("多买多卖", False, "zh", C.FREQUENT_TRADING, M, True, SUIT),
    ("快进快出", False, "zh", C.FREQUENT_TRADING, M, True, SUIT),
    ("高抛低吸", False, "zh", C.FREQUENT_TRADING, M, True, SUIT),
    ("做波段", False, "zh", C.FREQUENT_TRADING, M, True, SUIT),
    ("短线操作", False, "zh", C.FREQUENT_TRADING, M, True, SUIT),
    ("赶紧赎回再买", False, "zh", C.FREQUENT_TRADING, M, True, SUIT),
    (r"(?:每周|每天|天天)(?:都)?(?:调仓|换仓|买卖)", True, "zh", C.FREQUENT_TRADING, M, True, SUIT),
    # --- suitability evasion ---
    ("代客户做风险测评", False, "zh", C.SUITABILITY_EVASION, H, True, SUIT),
    ("代做风评", False, "zh", C.SUITABILITY_EVASION, H, True, SUIT),
    ("代填问卷", False, "zh", C.SUITABILITY_EVASION, H, True, SUIT),
    (
        r"(?:帮|替|代)(?:您|你|客户|他|她)(?:来)?(?:做|填|测|答|弄)(?:一下|个)?(?:风评|风险测评|风险评估|问卷|测评)",
        True,
        "zh",
        C.SUITABILITY_EVASION,
        H,
        True,
        SUIT,
    ),
    (
        r"(?:风评|风险测评|风险评估|问卷|测评)(?:我|我们)?(?:来)?(?:帮|替|代)(?:您|你)(?:做|填|弄|答|测)",
        True,
        "zh",
        C.SUITABILITY_EVASION,
        H,
        True,
        SUIT,
    ),
    ("照我说的答", False, "zh", C.SUITABILITY_EVASION, H, True, SUIT),
    ("按我教的说", False, "zh", C.SUITABILITY_EVASION, H, True, SUIT),
    (
        r"(?:录音|录像|双录)(?:的)?时候?(?:您|你)?(?:就)?(?:说|回答|答)",
        True,
        "zh",
        C.SUITABILITY_EVASION,
        H,
        True,
        SUIT,
    ),
    ("拆单", False, "zh", C.SUITABILITY_EVASION, H, True, SUIT),
    (r"(?:拆成|分成|分开)(?:几|两|多|三)?(?:笔|次)(?:买|购买|认购)", True, "zh", C.SUITABILITY_EVASION, H, True, SUIT),
    ("规避适当性", False, "zh", C.SUITABILITY_EVASION, H, True, SUIT),
    (
        r"(?:测评|风评|问卷)(?:的时候)?(?:选|填)(?:激进|最高|高一点|进取)",
        True,
        "zh",
        C.SUITABILITY_EVASION,
        H,
        True,
        SUIT,
    ),
    # --- passwords / operating for the customer ---
    ("告诉我密码", False, "zh", C.CREDENTIALS, H, True, CONDUCT),
    ("密码告诉我", False, "zh", C.CREDENTIALS, H, True, CONDUCT),
    ("密码发给我", False, "zh", C.CREDENTIALS, H, True, CONDUCT),
    ("验证码告诉我", False, "zh", C.CREDENTIALS, H, True, CONDUCT),
    ("验证码发给我", False, "zh", C.CREDENTIALS, H, True, CONDUCT),
    ("把验证码报给我", False, "zh", C.CREDENTIALS, H, True, CONDUCT),
    (
        r"(?:我|我们)(?:来)?(?:帮|替|代)(?:您|你)(?:操作|下单|买|赎回|交易|转账)",
        True,
        "zh",
        C.CREDENTIALS,
        H,
        True,
        CONDUCT,
    ),
    ("代客操作", False, "zh", C.CREDENTIALS, H, True, CONDUCT),
    ("账户交给我", False, "zh", C.CREDENTIALS, H, True, CONDUCT),
    # --- off-channel ---
    ("私人微信", False, "zh", C.OFF_CHANNEL, M, True, CONDUCT),
    ("加我微信", False, "zh", C.OFF_CHANNEL, L, True, CONDUCT),
    ("私下转账", False, "zh", C.OFF_CHANNEL, H, True, CONDUCT),
    ("转到我个人账户", False, "zh", C.OFF_CHANNEL, H, True, CONDUCT),
    ("打到我卡上", False, "zh", C.OFF_CHANNEL, H, True, CONDUCT),
    ("私下交易", False, "zh", C.OFF_CHANNEL, H, True, CONDUCT),
    ("飞单", False, "zh", C.OFF_CHANNEL, H, True, CONDUCT),
    ("私下签", False, "zh", C.OFF_CHANNEL, H, True, CONDUCT),
    # --- English ---
    ("guaranteed return", False, "en", C.GUARANTEE, H, True, AMR),
    ("guaranteed returns", False, "en", C.GUARANTEE, H, True, AMR),
    ("guarantee your principal", False, "en", C.GUARANTEE, H, True, AMR),
    ("principal protected", False, "en", C.GUARANTEE, H, True, AMR),
    ("principal-protected", False, "en", C.GUARANTEE, H, True, AMR),
    ("risk-free", False, "en", C.GUARANTEE, H, True, AMR),
    ("risk free", False, "en", C.GUARANTEE, H, True, AMR),
    ("no risk", False, "en", C.GUARANTEE, H, True, AMR),
    ("zero risk", False, "en", C.GUARANTEE, H, True, AMR),
    (r"\b(?:can't|cannot|can not|won't) lose\b", True, "en", C.GUARANTEE, H, True, AMR),
    ("expected return", False, "en", C.RETURN_FORECAST, M, True, SALES25),
    (
        r"\b(?:will|definitely|surely) (?:earn|get|make) \d+(?:\.\d+)?\s*%",
        True,
        "en",
        C.RETURN_FORECAST,
        H,
        True,
        SALES25,
    ),
    ("same as a deposit", False, "en", C.DEPOSIT_CONFUSION, H, True, SALES25),
    ("just like a deposit", False, "en", C.DEPOSIT_CONFUSION, H, True, SALES25),
    ("covered by deposit insurance", False, "en", C.DEPOSIT_CONFUSION, H, True, SALES25),
    ("best product", False, "en", C.SUPERLATIVE, M, True, AD9),
    ("number one", False, "en", C.SUPERLATIVE, M, True, AD9),
    ("limited quota", False, "en", C.TIME_PRESSURE, M, True, SALES25),
    ("last chance", False, "en", C.TIME_PRESSURE, M, True, SALES25),
    ("free gift", False, "en", C.INDUCEMENT, M, True, SALES25),
    ("cash back", False, "en", C.INDUCEMENT, H, True, SALES25),
    ("kickback", False, "en", C.INDUCEMENT, H, True, SALES25),
    (r"\bonly if you (?:buy|purchase)\b", True, "en", C.BUNDLING, H, True, SALES25),
    (r"\bother banks? (?:are|is) (?:a )?(?:scams?|unsafe|rubbish)\b", True, "en", C.DISPARAGING, M, True, CONDUCT),
    (r"\b(?:trade|switch) (?:every|each) (?:day|week)\b", True, "en", C.FREQUENT_TRADING, M, True, SUIT),
    (
        r"\b(?:i'll|i will|let me) (?:fill in|do|take) (?:the |your )?risk (?:questionnaire|assessment)",
        True,
        "en",
        C.SUITABILITY_EVASION,
        H,
        True,
        SUIT,
    ),
    ("split the order", False, "en", C.SUITABILITY_EVASION, H, True, SUIT),
    ("your password", False, "en", C.CREDENTIALS, H, True, CONDUCT),
    ("verification code", False, "en", C.CREDENTIALS, H, True, CONDUCT),
    (
        r"\b(?:i'll|i will|let me) (?:trade|buy|sell|operate) (?:it )?(?:for you|on your behalf)\b",
        True,
        "en",
        C.CREDENTIALS,
        H,
        True,
        CONDUCT,
    ),
    ("personal wechat", False, "en", C.OFF_CHANNEL, M, True, CONDUCT),
    # --- benign compounds: a hit inside one of these is not a hit ---
    ("无风险利率", False, "zh", C.ALLOW, L, False, ""),
    ("无风险收益率", False, "zh", C.ALLOW, L, False, ""),
    ("固定收益类", False, "zh", C.ALLOW, L, False, ""),
    ("非保本浮动收益", False, "zh", C.ALLOW, L, False, ""),
    ("保本理财已经退出", False, "zh", C.ALLOW, L, False, ""),
    ("risk-free rate", False, "en", C.ALLOW, L, False, ""),
    ("risk free rate", False, "en", C.ALLOW, L, False, ""),
]


def default_rules() -> list[dict]:
    """The entries as dicts with stable codes."""
    counters: dict[str, int] = {}
    out = []
    for pattern, is_regex, language, category, severity, negation, source in ENTRIES:
        key = f"{language.upper()}-{CODE_PREFIX[category]}"
        counters[key] = counters.get(key, 0) + 1
        out.append(
            {
                "code": f"{key}-{counters[key]:03d}",
                "pattern": pattern,
                "is_regex": is_regex,
                "language": language,
                "category": str(category),
                "severity": str(severity),
                "negation_suppresses": negation,
                "source": source,
            }
        )
    return out


def default_specs() -> list[RuleSpec]:
    """The default lexicon as scanner specs, without a database (bench, docs)."""
    return [
        RuleSpec(
            code=r["code"],
            pattern=r["pattern"],
            is_regex=r["is_regex"],
            language=r["language"],
            category=r["category"],
            severity=r["severity"],
            negation_suppresses=r["negation_suppresses"],
            source=r["source"],
            is_allow=r["category"] == C.ALLOW,
        )
        for r in default_rules()
    ]


def lexicon_load_defaults(rule_model, version_model, *, actor=None) -> int:
    """Insert the default rules that are missing (by code), each with its version-1 changelog row."""
    existing = set(rule_model.objects.values_list("code", flat=True))
    created = 0
    for data in default_rules():
        if data["code"] in existing:
            continue
        rule = rule_model.objects.create(owner=actor, version=1, **data)
        snapshot = {k: v for k, v in data.items() if k != "code"}
        snapshot["owner_id"] = actor.pk if actor is not None else None
        version_model.objects.create(
            rule=rule, version=1, snapshot=snapshot, changes={}, note="default lexicon", changed_by=actor
        )
        created += 1
    return created
