"""The compliance scanner: one pass of an Aho-Corasick automaton plus one combined regex.

``scan_text`` is the entry point other features call. It is pure Python
over a compiled :class:`Scanner`; the compiled scanner for the active lexicon is cached
per lexicon revision, so a rule edit takes effect on the next scan without a restart.

Text is normalised with a length-preserving table (full-width ASCII and the ideographic
space become half-width, Latin letters lower-case) so spans point into the original text.

Negation: a hit of a rule whose ``negation_suppresses`` is on is dropped when a negation
cue ("不", "没有", "并非", "严禁", "not", "never", ...) stands shortly before it in the same
clause, or a refutation ("是不可能的", "is prohibited") follows it in the same clause.
Cues that are parts of non-negating words (不仅, 非常, 不过, 无论, "not only") are
ignored. Phrases that themselves contain a negation ("本金不会亏", "没有风险") are
patterns of their own, so "这款产品没有风险" is still flagged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from re import _constants as sre_constants  # Python 3.11+: the parser behind re
from re import _parser as sre_parser

import ahocorasick
from django.db.models import QuerySet
from django.utils import timezone

from .constants import Category, Disclosure, Severity
from .models import LexiconRule

# --- normalisation -------------------------------------------------------------------

_NORMALISE = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}  # full-width ASCII -> ASCII
_NORMALISE[0x3000] = 0x20  # ideographic space
_NORMALISE.update({cp: cp + 32 for cp in range(ord("A"), ord("Z") + 1)})
_NORMALISE.update({cp: cp - 0xFEE0 + 32 for cp in range(0xFF21, 0xFF3B)})  # full-width A-Z -> a-z
_NORMALISE.update({0x2018: 0x27, 0x2019: 0x27, 0x201C: 0x22, 0x201D: 0x22})  # curly quotes
_TABLE = str.maketrans(_NORMALISE)


def normalise(text: str) -> str:
    """Length-preserving normalisation: offsets in the result are offsets in ``text``."""
    return text.translate(_TABLE)


# Clause boundaries after normalisation (full-width punctuation has become ASCII, except
# the ideographic full stop and comma, which have no ASCII twin).
_CLAUSE_BREAK = re.compile(r"[,.!?;:\n\r\t。、，！？；：…]|但是|但|可是|然而|不过|however|but")
_WINDOW_ZH = 10  # characters between a Chinese cue and the hit
_WINDOW_EN = 30  # characters between an English cue and the hit
_PREFIX_MAX = 40

_NEG_ZH = (
    "并不",
    "并非",
    "并没有",
    "绝不",
    "绝非",
    "不会",
    "不能",
    "不得",
    "不可",
    "不要",
    "不应",
    "不是",
    "不存在",
    "不承诺",
    "不保证",
    "无法",
    "严禁",
    "禁止",
    "杜绝",
    "切勿",
    "切忌",
    "不允许",
    "谁也",
    "没有",
    "没",
    "无",
    "非",
    "不",
    "未",
    "别",
    "勿",
    "莫",
    "否",
    "是否",
    "能否",
)
# Words that contain a cue character but do not negate.
_NOT_NEGATION_ZH = (
    "不仅",
    "不但",
    "不光",
    "不只",
    "不止",
    "不过",
    "不少",
    "不错",
    "不断",
    "不管",
    "不论",
    "无论",
    "非常",
    "无比",
    "别的",
    "别家",
    "别人",
    "特别",
    "区别",
    "未来",
    "莫过于",
    "毫不犹豫",
    "无忧",
)
_NEG_EN = re.compile(
    r"\b(?:not|no|never|none|nobody|nothing|neither|nor|without|cannot|can't|won't|don't|doesn't|didn't|"
    r"isn't|aren't|wasn't|shouldn't|mustn't|prohibited|forbidden|whether)\b"
)
_NOT_NEGATION_EN = re.compile(r"\bnot only\b|\bno doubt\b|\bno wonder\b")
_REFUTATION = re.compile(
    r"^.{0,4}?(?:是不可能|不可能|是不存在|不存在的|是不允许|是不被允许|是违规|属于违规|是禁止|是被禁止|被禁止|是错误|是误导|"
    r"is not allowed|is prohibited|is forbidden|is impossible|is not true|is misleading)"
)
_PRONOUN_REFUTATION = re.compile(
    r"^[,，、]\s*(?:那|这|这个|那个|这种|that|this|it)\s*(?:是|就是|'s|is)?\s*(?:不可能|不存在|不允许|违规|禁止|错误|误导|"
    r"impossible|not allowed|prohibited|not true|misleading)"
)
_NEG_ZH_RE = re.compile("|".join(sorted(_NEG_ZH + _NOT_NEGATION_ZH, key=len, reverse=True)))
_NOT_NEG_ZH = frozenset(_NOT_NEGATION_ZH)


def _clause_prefix(norm: str, start: int) -> str:
    lo = max(0, start - _PREFIX_MAX)
    prefix = norm[lo:start]
    breaks = list(_CLAUSE_BREAK.finditer(prefix))
    if breaks:
        prefix = prefix[breaks[-1].end() :]
    return prefix


def _clause_suffix(norm: str, end: int) -> str:
    suffix = norm[end : end + _PREFIX_MAX]
    m = _CLAUSE_BREAK.search(suffix)
    return suffix[: m.start()] if m else suffix


def is_negated(norm: str, start: int, end: int) -> bool:
    """Whether the hit ``norm[start:end]`` is negated or refuted within its clause."""
    prefix = _clause_prefix(norm, start)
    if prefix:
        n = len(prefix)
        for m in _NEG_ZH_RE.finditer(prefix):
            if m.group() in _NOT_NEG_ZH:
                continue
            if n - m.end() <= _WINDOW_ZH:
                return True
        if any(c.isascii() and c.isalpha() for c in prefix):
            masked = _NOT_NEGATION_EN.sub(lambda m: " " * len(m.group()), prefix)
            for m in _NEG_EN.finditer(masked):
                if n - m.end() <= _WINDOW_EN:
                    return True
    suffix = _clause_suffix(norm, end)
    if suffix.strip() and _REFUTATION.search(suffix.lstrip()):
        return True
    # "说到保本，那是不可能的": a refutation may open the next clause with a pronoun.
    rest = norm[end + len(suffix) : end + _PREFIX_MAX]
    m = _PRONOUN_REFUTATION.match(rest)
    return bool(m)


# --- result types ----------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    rule: str  # the rule's code, e.g. "ZH-GUAR-001"
    category: str
    severity: str
    start: int
    end: int
    match: str
    source: str = ""  # the regulation the rule comes from
    rule_id: int | None = None
    rule_version: int | None = None

    def as_json(self) -> dict:
        return {
            "rule": self.rule,
            "category": self.category,
            "severity": self.severity,
            "start": self.start,
            "end": self.end,
            "match": self.match,
        }


@dataclass(frozen=True)
class MissingDisclosure:
    code: str
    severity: str
    required_text: str
    reason: str = ""


@dataclass(frozen=True)
class ScanResult:
    findings: list[Finding] = field(default_factory=list)
    missing_disclosures: list[MissingDisclosure] = field(default_factory=list)
    suppressed: list[Finding] = field(default_factory=list)  # negated hits, shown greyed in the UI
    stated_risk_levels: list[int] = field(default_factory=list)

    @property
    def is_clean(self) -> bool:
        return not self.findings and not self.missing_disclosures

    def as_json(self) -> dict:
        return {
            "findings": [f.as_json() for f in self.findings],
            "missing_disclosures": [d.code for d in self.missing_disclosures],
        }


@dataclass(frozen=True)
class RuleSpec:
    """What the scanner needs of a lexicon rule (a model row or a default-data entry)."""

    code: str
    pattern: str
    is_regex: bool
    language: str
    category: str
    severity: str
    negation_suppresses: bool = True
    source: str = ""
    rule_id: int | None = None
    version: int | None = None
    is_allow: bool = False  # a benign compound that cancels hits inside it ("无风险利率")


# --- the compiled scanner ----------------------------------------------------------------

_ASCII_WORD = re.compile(r"[a-z0-9]")


class Scanner:
    """A compiled lexicon. Build once, scan many texts (thread-safe for reads)."""

    def __init__(self, rules: Iterable[RuleSpec]):
        self.rules: list[RuleSpec] = []
        self._automaton = ahocorasick.Automaton()
        # key -> (phrase specs, regex rules it triggers)
        keys: dict[str, tuple[list[RuleSpec], list[tuple[re.Pattern, RuleSpec]]]] = {}
        self._untriggered: list[tuple[re.Pattern, RuleSpec]] = []
        for rule in rules:
            self.rules.append(rule)
            if rule.is_regex:
                compiled = re.compile(rule.pattern)  # fails here, with the rule at hand, on a bad pattern
                triggers = regex_triggers(rule.pattern)
                if not triggers:
                    self._untriggered.append((compiled, rule))
                    continue
                for trigger in triggers:
                    keys.setdefault(normalise(trigger), ([], []))[1].append((compiled, rule))
            else:
                key = normalise(rule.pattern.strip())
                if key:
                    keys.setdefault(key, ([], []))[0].append(rule)
        for key, (specs, regexes) in keys.items():
            self._automaton.add_word(key, (len(key), tuple(specs), tuple(regexes)))
        self._has_keys = bool(keys)
        if self._has_keys:
            self._automaton.make_automaton()

    def _raw_hits(self, norm: str) -> list[tuple[int, int, RuleSpec]]:
        """Phrase hits from one automaton pass; a regex runs only when one of its literal
        triggers occurred in that pass (or always, if no trigger could be derived)."""
        hits: list[tuple[int, int, RuleSpec]] = []
        to_run: list[tuple[re.Pattern, RuleSpec]] = []
        if self._has_keys:
            for end_index, (length, specs, regexes) in self._automaton.iter(norm):
                if specs:
                    start = end_index - length + 1
                    end = end_index + 1
                    for spec in specs:
                        if spec.language == "en" and not _word_bounded(norm, start, end):
                            continue
                        hits.append((start, end, spec))
                if regexes:
                    to_run.extend(regexes)
        if self._untriggered:
            to_run.extend(self._untriggered)
        if to_run:
            seen: set[str] = set()
            for compiled, spec in to_run:
                if spec.code in seen:
                    continue
                seen.add(spec.code)
                for m in compiled.finditer(norm):
                    if m.end() > m.start():
                        hits.append((m.start(), m.end(), spec))
        return hits

    def scan(
        self,
        text: str,
        *,
        product_type: str | None = None,
        product_risk_level: int | None = None,
        check_disclosures: bool | None = None,
    ) -> ScanResult:
        norm = normalise(text or "")
        hits = self._raw_hits(norm)
        findings: list[Finding] = []
        suppressed: list[Finding] = []
        if hits:
            allows = [(s, e) for s, e, spec in hits if spec.is_allow]
            candidates = [(s, e, spec) for s, e, spec in hits if not spec.is_allow]
            # A hit inside a longer hit (保本 inside 保本保息) is the same statement.
            candidates.sort(key=lambda h: (h[0], -(h[1] - h[0])))
            kept: list[tuple[int, int, RuleSpec]] = []
            for s, e, spec in candidates:
                if any(a_s <= s and e <= a_e for a_s, a_e in allows):
                    continue
                if any(k_s <= s and e <= k_e and (k_s, k_e) != (s, e) for k_s, k_e, _ in kept):
                    continue
                if any((k_s, k_e) == (s, e) for k_s, k_e, _ in kept):
                    continue  # the same words caught by a phrase and a pattern: one finding
                kept.append((s, e, spec))
            for s, e, spec in kept:
                finding = Finding(
                    rule=spec.code,
                    category=spec.category,
                    severity=spec.severity,
                    start=s,
                    end=e,
                    match=text[s:e],
                    source=spec.source,
                    rule_id=spec.rule_id,
                    rule_version=spec.version,
                )
                if spec.negation_suppresses and is_negated(norm, s, e):
                    suppressed.append(finding)
                else:
                    findings.append(finding)
        levels: list[int] = []
        missing: list[MissingDisclosure] = []
        if check_disclosures is None:
            check_disclosures = product_type is not None
        if check_disclosures:
            levels = stated_risk_levels(norm)
            missing = missing_disclosures(norm, product_type=product_type, product_risk_level=product_risk_level)
        return ScanResult(
            findings=findings, missing_disclosures=missing, suppressed=suppressed, stated_risk_levels=levels
        )


_MAX_TRIGGERS = 64


def regex_triggers(pattern: str) -> list[str] | None:
    """Literal strings one of which must occur where ``pattern`` matches (its leading literals).

    Derived from the parsed pattern: leading anchors are skipped, then alternations of
    literals, groups and character classes give the set. None when nothing can be
    derived (the pattern then runs on every text).
    """
    try:
        parsed = sre_parser.parse(pattern)
    except re.error:
        return None
    prefixes = _leading(list(parsed))
    if not prefixes or any(not p for p in prefixes) or len(prefixes) > _MAX_TRIGGERS:
        return None
    return sorted(prefixes)


def _leading(items: list) -> set[str] | None:
    """The set of literal prefixes a sequence of parsed items must start with."""
    c = sre_constants
    prefixes = {""}
    for op, av in items:
        if op == c.AT:
            continue
        if op == c.LITERAL:
            prefixes = {p + chr(av) for p in prefixes}
            continue
        if op == c.IN:
            chars = [chr(v) for o, v in av if o == c.LITERAL]
            if len(chars) != len(av) or len(prefixes) * len(chars) > _MAX_TRIGGERS:
                break
            prefixes = {p + ch for p in prefixes for ch in chars}
            continue
        if op == c.SUBPATTERN:
            inner = _leading(list(av[-1]))
            if not inner or len(prefixes) * len(inner) > _MAX_TRIGGERS:
                break
            prefixes = {p + i for p in prefixes for i in inner}
            break  # the group may not be fully literal: stop after it
        if op == c.BRANCH:
            alts: set[str] = set()
            for branch in av[1]:
                inner = _leading(list(branch))
                if not inner:
                    return prefixes if prefixes != {""} else None
                alts |= inner
            if len(prefixes) * len(alts) > _MAX_TRIGGERS:
                break
            prefixes = {p + a for p in prefixes for a in alts}
            break
        if op in (c.MAX_REPEAT, c.MIN_REPEAT) and av[0] >= 1:
            inner = _leading(list(av[2]))
            if inner:
                prefixes = {p + i for p in prefixes for i in inner}
            break
        break
    return prefixes if prefixes != {""} else None


def _word_bounded(norm: str, start: int, end: int) -> bool:
    before = norm[start - 1] if start > 0 else " "
    after = norm[end] if end < len(norm) else " "
    return not _ASCII_WORD.match(before) and not _ASCII_WORD.match(after)


# --- required disclosures ------------------------------------------------------------------

_PAST_PERFORMANCE = re.compile(
    r"过往业绩|历史业绩|以往业绩|往期(?:产品)?(?:收益|业绩)|上一期.{0,6}(?:收益|年化)|去年.{0,8}(?:收益|赚|涨)|"
    r"过去.{0,6}(?:年|个月|季度).{0,8}(?:收益|年化|涨|回报)|历史(?:年化)?收益|成立以来.{0,8}(?:收益|年化|涨)|"
    r"近[一二三四五六七八九十\d]+(?:年|个月).{0,6}(?:收益|年化|涨)|"
    r"past performance|historical returns?|returned \d|last year.{0,20}returns?"
)
_RISK_STATEMENT = (
    re.compile(r"理财非存款"),
    re.compile(r"产品有风险"),
    re.compile(r"投资[须需]谨慎"),
)
_PAST_DISCLAIMER = re.compile(r"过往业绩(?:并)?不代表其?未来表现")
_FUND_DISCLAIMER = re.compile(r"(?:基金的)?过往业绩(?:并)?不预示其?未来表现")
_FUND_RISK = re.compile(r"基金有风险")
_CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5}
_RISK_LEVEL = re.compile(
    r"(?<![a-z0-9])r([1-5])(?![0-9])|(?:风险等级|风险评级|风险级别)(?:为|是|:)?\s*(?:r)?([1-5一二三四五])(?:级)?|"
    r"([一二三四五])级(?:风险|产品)"
)


def stated_risk_levels(norm: str) -> list[int]:
    """Product risk levels stated in the (normalised) text: "R2", "风险等级为二级", "三级风险"."""
    levels: list[int] = []
    for m in _RISK_LEVEL.finditer(norm):
        raw = m.group(1) or m.group(2) or m.group(3)
        level = int(raw) if raw.isdigit() else _CN_DIGITS[raw]
        if level not in levels:
            levels.append(level)
    return levels


def missing_disclosures(
    norm: str, *, product_type: str | None, product_risk_level: int | None = None
) -> list[MissingDisclosure]:
    out: list[MissingDisclosure] = []
    if product_type == "wealth" and not all(p.search(norm) for p in _RISK_STATEMENT):
        out.append(MissingDisclosure(Disclosure.RISK_STATEMENT, Severity.HIGH, "理财非存款、产品有风险、投资须谨慎"))
    if product_type == "fund":
        if not _FUND_DISCLAIMER.search(norm):
            out.append(MissingDisclosure(Disclosure.FUND_DISCLAIMER, Severity.HIGH, "基金的过往业绩并不预示其未来表现"))
        if not _FUND_RISK.search(norm) or not _RISK_STATEMENT[2].search(norm):
            out.append(MissingDisclosure(Disclosure.FUND_RISK, Severity.HIGH, "基金有风险，投资须谨慎"))
    past = _PAST_PERFORMANCE.search(norm)
    if past and product_type != "fund" and not _PAST_DISCLAIMER.search(norm):
        out.append(
            MissingDisclosure(
                Disclosure.PAST_PERFORMANCE,
                Severity.HIGH,
                "理财产品过往业绩不代表其未来表现，不等于理财产品实际收益，投资须谨慎",
                reason=past.group(),
            )
        )
    if product_type in ("wealth", "fund") or product_risk_level is not None:
        levels = stated_risk_levels(norm)
        if not levels:
            out.append(MissingDisclosure(Disclosure.RISK_LEVEL_MISSING, Severity.MEDIUM, "本产品风险等级为R?"))
        elif product_risk_level is not None and any(level != product_risk_level for level in levels):
            stated = ", ".join(f"R{level}" for level in levels)
            out.append(
                MissingDisclosure(
                    Disclosure.RISK_LEVEL_MISMATCH,
                    Severity.HIGH,
                    f"R{product_risk_level}",
                    reason=stated,
                )
            )
    return out


# --- the cached scanner of the active lexicon ----------------------------------------------

_SPEC_FIELDS = (
    "id",
    "code",
    "pattern",
    "is_regex",
    "language",
    "category",
    "severity",
    "negation_suppresses",
    "source",
    "version",
)


def rule_specs(rules: QuerySet[LexiconRule]) -> list[RuleSpec]:
    """What the scanner needs of lexicon rows, loading only those columns."""
    return [
        RuleSpec(
            code=r.code,
            pattern=r.pattern,
            is_regex=r.is_regex,
            language=r.language,
            category=r.category,
            severity=r.severity,
            negation_suppresses=r.negation_suppresses,
            source=r.source,
            rule_id=r.pk,
            version=r.version,
            is_allow=r.category == Category.ALLOW,
        )
        for r in rules.only(*_SPEC_FIELDS)
    ]


_cache: dict[str, object] = {"key": None, "scanner": None}


def active_scanner() -> Scanner:
    """The scanner of the lexicon rules active today, rebuilt when the lexicon changes."""
    key = (LexiconRule.objects.revision_key(), timezone.localdate())
    if _cache["key"] != key or _cache["scanner"] is None:
        _cache["scanner"] = Scanner(rule_specs(LexiconRule.objects.active()))
        _cache["key"] = key
    return _cache["scanner"]  # type: ignore[return-value]


def scan_text(text: str, *, product_type: str | None = None, product_risk_level: int | None = None) -> ScanResult:
    """Scan ``text`` with the active lexicon: the entry point other features call.

    With ``product_type`` ("wealth", "fund", ...) the required disclosures are checked
    too; with ``product_risk_level`` the stated risk level must match it.
    """
    return active_scanner().scan(text, product_type=product_type, product_risk_level=product_risk_level)


__all__ = ["Category", "Finding", "MissingDisclosure", "RuleSpec", "ScanResult", "Scanner", "normalise", "scan_text"]
