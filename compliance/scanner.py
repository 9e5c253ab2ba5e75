"""The compliance scanner: one pass of an Aho-Corasick automaton plus triggered regexes.

``scan_text`` is the entry point other features call. It is pure Python over a compiled
:class:`Scanner`; the compiled scanner for the active lexicon (rules and concept groups)
is cached per lexicon revision, so a rule edit takes effect on the next scan without a
restart.

Three kinds of rule share the pass: phrases, regular expressions (run only when one of
their leading literals occurred), and concept expressions (``compliance.rule_language``):
concept groups' terms are keys of the same automaton, and a concept rule fires when all
its parts occur within its window.

Text is normalised with a length-preserving table (full-width ASCII and the ideographic
space become half-width, Latin letters lower-case) so spans point into the original text.

Negation and dismissal, for every part of a hit that ``negation_suppresses``:

- a negation cue ("不", "没有", "并非", "not", "never", ...) shortly before the part in the
  same clause (clauses end at "，。；" and at contrasts "但是", "却", "不过", "but"); two
  cues cancel ("没有不赚的" is a promise). Cues that are parts of non-negating words
  (不仅, 非常, 无论, "not only") are ignored, and so are cues inside matched terms that
  carry their own negation ("本金不会亏", "没有风险"), which are patterns of their own;
- a refutation right after the hit ("是不可能的", "那是误导", "is misleading");
- a correction later in the same sentence ("我纠正了这个说法", "别信", "that's not true");
- a reported question of the customer ("客户问：这个保本吗", "the client asked whether ...").

Suppressed hits are kept apart (shown greyed in the UI) with the reason.
"""

from __future__ import annotations

import gc
import re
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from re import _constants as sre_constants  # Python 3.11+: the parser behind re
from re import _parser as sre_parser

import numpy as np
from django.db.models import Count, Max, QuerySet
from django.utils import timezone

from .classifier import Classifier, ModelFinding, Snippet, fit, load_corpus
from .constants import Category, Disclosure, Severity
from .lexicon_data import default_groups, default_specs
from .models import ConceptGroup, CorpusEntry, LexiconRule
from .rule_language import (
    DEFAULT_WINDOW,
    DISCLOSURE_GROUPS,
    FILLER_GROUP,
    ConceptExpression,
    RuleSpec,
    is_concept_expression,
    parse_expression,
    parse_terms,
)

# --- normalisation -------------------------------------------------------------------

_NORMALISE = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}  # full-width ASCII -> ASCII
_NORMALISE[0x3000] = 0x20  # ideographic space
_NORMALISE.update({cp: cp + 32 for cp in range(ord("A"), ord("Z") + 1)})
_NORMALISE.update({cp: cp - 0xFEE0 + 32 for cp in range(0xFF21, 0xFF3B)})  # full-width A-Z -> a-z
_NORMALISE.update({0x2018: 0x27, 0x2019: 0x27, 0x201C: 0x22, 0x201D: 0x22})  # curly quotes
# A list indexed by code point is 2-3x faster for str.translate than a dict (whose misses
# on every Chinese character raise and catch LookupError); code points past its end map to
# themselves.
_TABLE = list(range(max(_NORMALISE) + 1))
for _cp, _to in _NORMALISE.items():
    _TABLE[_cp] = _to


# Speech-recognition slips (a homophone written for a word, same length): transcripts of
# calls carry them ("鹅度" for 额度, "路像" for 录像). Each is a non-word, so the rewrite
# cannot change a sentence that was typed; it keeps the length, so spans still point into
# the original text.
ASR_SLIPS = {
    "鹅度": "额度",
    "恶度": "额度",
    "路像": "录像",
    "录象": "录像",
    "路音": "录音",
    "秘码": "密码",
    "蜜码": "密码",
    "验正码": "验证码",
    "保笨": "保本",
    "包本": "保本",
    "理才": "理财",
    "代款": "贷款",
    "疯险": "风险",
    "测平": "测评",
    "兜低": "兜底",
    "收溢": "收益",
}
_ASR_SLIP = re.compile("|".join(sorted(ASR_SLIPS, key=len, reverse=True)))


def _fix_slips(norm: str) -> str:
    return _ASR_SLIP.sub(lambda m: ASR_SLIPS[m.group()], norm)


def normalise(text: str) -> str:
    """Length-preserving normalisation: offsets in the result are offsets in ``text``."""
    return _fix_slips(text.translate(_TABLE))


# Clause boundaries after normalisation (full-width punctuation has become ASCII, except
# the ideographic full stop and comma, which have no ASCII twin).
_CLAUSE_BREAK = re.compile(r"\.(?!\d)|[,!?;:\n\r\t。、，！？；：…]|但是|但|可是|然而|不过|却|however|\bbut\b|\band\b")
_SENTENCE_BREAK = re.compile(r"\.(?!\d)|[!?\n\r。！？]")
_SENTENCE_STOP = re.compile(r"[。！？!?]|\.(?!\d)")
_SENTENCE_MAX = 120
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
    # "nobody can": one negation, not the two its characters would count
    "谁也不能",
    "谁都不能",
    "谁也不",
    "谁都不",
    "谁也没",
    "谁都没",
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
    "差不多",
    "说不定",
    "不得不",
    "了不起",
    "忍不住",
    "怪不得",
    # connectives of a condition or a comparison: "定下来，不然就轮不上", "存定期不如买这个"
    "不然",
    "要不然",
    "要不",
    "否则",
    "不如",
    # "你别看基准写得保守，实际…": despite, not a negation
    "别看",
)
_NEG_EN = re.compile(
    r"\b(?:not|no|never|none|nobody|nothing|neither|nor|without|cannot|can't|won't|don't|doesn't|didn't|"
    r"isn't|aren't|wasn't|shouldn't|wouldn't|mustn't|prohibited|forbidden|whether|"
    # as speech recognition writes them, without the apostrophe
    r"dont|wont|cant|doesnt|didnt|isnt|arent|wasnt|shouldnt|wouldnt)\b"
)
# A prohibition or a refusal reaches the end of its clause: "I'm not allowed to discuss
# products on my personal WeChat".
_LONG_SCOPE_EN = re.compile(
    r"not (?:allowed|permitted|supposed|able) to|unable to|cannot|can't|can not|won't|never|prohibited|forbidden|"
    r"nobody can|no one can"
)
_NOT_NEGATION_EN = re.compile(
    r"\bnot only\b|\bno doubt\b|\bno wonder\b|\bdon't worry\b|\bno matter\b|\bwouldn't worry\b|\bwouldn't you\b"
)
_REFUTATION = re.compile(
    r"^.{0,4}?(?:是没有的事|没有的事|是不客观|不客观|是夸大|言过其实|是不可能|不可能|是不存在|不存在的|是不允许|是不被允许|是违规|属于违规|是禁止|是被禁止|被禁止|是错误|是误导|"
    r"is not allowed|is prohibited|is forbidden|is impossible|is not true|is misleading)"
)
_PRONOUN_REFUTATION = re.compile(
    r"^[,，、]\s*(?:那|这|这个|那个|这种|that|this|it)\s*(?:是|就是|'s|is)?\s*(?:不可能|不存在|不允许|违规|禁止|错误|误导|"
    r"impossible|not allowed|prohibited|not true|misleading)"
)
# Negation is a condition, not a denial, in a threat or a tie: "不买的话…", "不定下来就…".
_CONDITIONAL_CATEGORIES = frozenset({Category.TIME_PRESSURE, Category.BUNDLING, Category.INDUCEMENT})
_CONDITIONAL = re.compile(r"的话|就|否则|不然|要不")
_CONTRAST = re.compile(r"但是|但|可是|不过|然而|却|实际上|其实|说实话|\bbut\b|\bhowever\b|\bactually\b")
_NEG_ZH_RE = re.compile("|".join(sorted(_NEG_ZH + _NOT_NEGATION_ZH, key=len, reverse=True)))
_NOT_NEG_ZH = frozenset(_NOT_NEGATION_ZH)


# A refusal to say or promise reaches over the comma to what would be said: "我不敢跟您保证，
# 这个一定能到四个点", "谁也不能打包票说…".
_SPEECH_REFUSAL = re.compile(
    r"(?:不能|不敢|没法|没办法|无法|不可能|谁也不能|谁都不敢|没人敢|没有人敢|没人能|没有人能)"
    r"(?:跟您|给您|向您|和您|对您|跟你|给你)?(?:说|讲|保证|承诺|打包票|担保|告诉您|告诉你|确定|肯定)"
    r"(?:什么|说)?[的了啊]?\s*[,，:：]\s*[^,，。；;！!？?]*$"
)


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


# A negated predicate ends at a spoken particle ("先别管了赎回来吧": 别 does not reach 赎回):
# in transcripts without punctuation they are the only clause ends there are.
_PARTICLE_END = re.compile(r"[吧嘛呢哈呀啦]|(?<![不为除])了(?!解|不起|结)")
# "买不买", "要不要": a choice put to the customer, not a negation.
_A_NOT_A = re.compile(r"([\u4e00-\u9fff])不\1")


_WHO_ALSO = frozenset({"谁也", "谁又"})  # "谁也不能": one cue, matched whole


def _cue_count(prefix: str) -> int:
    """Negation cues standing shortly before the end of ``prefix`` (one clause)."""
    n = len(prefix)
    count = 0
    if "不" in prefix:
        prefix = _A_NOT_A.sub("___", prefix)
    for m in _NEG_ZH_RE.finditer(prefix):
        if _PARTICLE_END.search(prefix, m.end()):
            continue
        if m.group() not in _NOT_NEG_ZH and n - m.end() <= _WINDOW_ZH:
            # "没有权限也不能帮您下单", "不保本也不保收益": a negation after 也/又 denies a
            # predicate of its own, coordinated with the one before; it does not undo it.
            if m.start() and prefix[m.start() - 1] in "也又" and prefix[m.start() - 2 : m.start()] not in _WHO_ALSO:
                count = 0
            count += 1
    if any(c.isascii() and c.isalpha() for c in prefix):
        masked = _NOT_NEGATION_EN.sub(lambda m: " " * len(m.group()), prefix)
        count += sum(
            1 for m in _NEG_EN.finditer(masked) if n - m.end() <= _WINDOW_EN or _LONG_SCOPE_EN.match(masked, m.start())
        )
    return count


# "这不是保本的吗？": a negation that asks for agreement is a claim.
_RHETORICAL_NEG = re.compile(r"不是|不就是|难道不|岂不")
_RHETORICAL_END = re.compile(r"[^,，。;!?]{0,12}?[吗嘛]")  # with or without the question mark (transcripts)


def _refuted_after(norm: str, end: int) -> bool:
    suffix = _clause_suffix(norm, end)
    if suffix.strip() and _REFUTATION.search(suffix.lstrip()):
        return True
    # "说到保本，那是不可能的": a refutation may open the next clause with a pronoun.
    rest = norm[end + len(suffix) : end + _PREFIX_MAX]
    return bool(_PRONOUN_REFUTATION.match(rest))


# A reported question of the customer, at the start of the sentence: "客户问：...",
# "备注：客户询问...", "the client asked whether ...".
# Greetings and forms of address may open the sentence ("喂，您好，", "张姐，").
_OPENERS = (
    r"(?:(?:喂|嗯+|您好|你好|对|好的|是的|那个|是这样|"
    r"[\u4e00-\u9fff]{1,2}(?:先生|女士|阿姨|姐|哥|叔|总|老师))[,，]\s*){0,3}"
)
_REPORTED_QUESTION = re.compile(
    r"^\s*(?:[^,，:：]{0,12}[:：])?\s*"
    + _OPENERS
    + r"(?:(?:客户|顾客|对方|客人)\s*[:：]|"  # the customer's turn in a transcript: "客户：…"
    r"(?:客户|顾客|对方|客人)[^,，。]{0,4}?(?:问|询问|咨询|想知道|担心|疑惑|质疑|说|表示|提到)|"
    r"您(?:刚才|刚刚|刚|是|是不是)?(?:问|想问|担心))"
    r"(?![^。！？]*(?:我说|我跟他说|我跟她说|我告诉|我回答|我答))|"
    r"^\s*(?:client|customer)\s*:|"
    r"^\s*(?:[a-z ]{0,20}: )?(?:the )?(?:client|customer)s? (?:\w+ )?"
    r"(?:asked|asks|wanted to know|wondered|was worried)|"
    r"^\s*(?:[a-z ]{0,20}: )?(?:so|right|well)?,?\s*you (?:just )?"
    r"(?:asked|were asking|wondered) (?:if|whether|about)"
)
# A correction later in the same sentence: the advisor says the claim is wrong.
_CORRECTION = re.compile(
    r"纠正|误导|市面上没有|其实不是|没有的事|不是这样|别当真|要警惕|要当心|要小心|没有这种产品|没有这样的产品|说法是错|说法不对|是错误的|不对的|别信|不要信|不可信|不负责任的说法|早就(?:被)?打破|已经没有了|现在没有这种|"
    r"已经不允许|不允许了|不能这么说|is misleading|that's misleading|not true|isn't true|is wrong|is false|"
    r"i (?:said|told (?:him|her|them)) no|i explained (?:it|that) (?:doesn't|isn't|is not|does not)"
)


def _sentence_bounds(norm: str, start: int, end: int) -> tuple[int, int]:
    lo = max(0, start - _SENTENCE_MAX)
    head = norm[lo:start]
    breaks = list(_SENTENCE_BREAK.finditer(head))
    s = lo + breaks[-1].end() if breaks else lo
    m = _SENTENCE_BREAK.search(norm, end, end + _SENTENCE_MAX)
    return s, (m.start() if m else min(len(norm), end + _SENTENCE_MAX))


# A question asked, not a claim: the hit stands in the last clause before a question mark
# and that sentence asks (吗, 会不会, 是不是…; an English sentence opening with an auxiliary
# or a wh- word), or the advisor repeats it ("您说想要稳赚不赔的？"). A rhetorical question
# is a claim ("总行那么大，还能让您赔钱？", "这不是稳赚的吗？", "您看是不是先定了？").
_ASKS = re.compile(
    r"吗|会不会|是不是|能不能|有没有|可不可以|行不行|靠不靠谱|安不安全|保不保|怎么办|怎么样|多少|哪个|哪家|什么|几个点|"
    r"^\s*(?:[a-z ]{0,20}: )?(?:so |and |but |um,? |uh,? |well,? )?(?:is|are|was|will|would|can|could|do|does|did|"
    r"should|has|have|what|how|why|which|when)\b"
)
_ASKS_BACK = re.compile(r"^\s*(?:[^,，:：]{0,12}[:：])?\s*(?:您|你)(?:是说|说|的意思是|是想|想要)")
_RHETORICAL = re.compile(
    r"还能|还会|难道|怎么可能|哪能|哪会|哪有|怎么会|您看|你看|对不对|不是.{0,12}吗|划不划算|多好|"
    r"\bisn't it\b|\baren't they\b|\bright\?|\bdon't you think\b|\bwhy not\b"
)
_QUESTION_CLAUSE_BREAK = re.compile(r"[,;:，；：、]")
_UNMARKED_QUESTION = re.compile(r"[^,;:，；：、。.!！?？\n]{0,8}?吗")


def is_question(norm: str, end: int) -> bool:
    """Whether the words ending at ``end`` are asked in a question (see ``_ASKS``)."""
    m = _SENTENCE_BREAK.search(norm, max(end - 1, 0), end + _SENTENCE_MAX)
    if not m or m.group() != "?" or _QUESTION_CLAUSE_BREAK.search(norm, end, m.start()):
        # A transcript has no question marks: 吗 closing the clause asks ("这个会亏吗我想问").
        q = _UNMARKED_QUESTION.match(norm, end)
        return bool(q) and not _RHETORICAL.search(_clause_prefix(norm, end) + norm[end : q.end()])
    head = norm[max(0, end - _SENTENCE_MAX) : max(end - 1, 0)]
    breaks = list(_SENTENCE_BREAK.finditer(head))
    s = max(0, end - _SENTENCE_MAX) + (breaks[-1].end() if breaks else 0)
    sentence = norm[s : m.start()]
    if _RHETORICAL.search(sentence):
        return False
    return bool(_ASKS.search(sentence) or _ASKS_BACK.match(sentence))


# Words quoted in order to reject them: others' claims ("有的地方说买理财送油", "网上说…",
# "some banks say…") or the customer's wish repeated ("您说加我私人微信", "you want me to…"),
# before the hit in its sentence, with a rejection after it ("这个真不行", "我们这儿不搞这个").
_QUOTED = re.compile(
    r"(?:有的地方|有些地方|有的银行|有些银行|有人|别人|别家|外面|网上|很多人|不少人|好多人|很多老人家|老人家|"
    r"有的客户|客户|隔壁[\u4e00-\u9fff]{0,4}|您(?:刚才)?|你(?:刚才)?|朋友|邻居|亲戚|他们|别的经理|听人)(?:都|会|也|总|常)?"
    r"(?:说|讲|宣传|以为|觉得|认为|把|想|要求|提到|问)|听说|据说|"
    # a warning against what anyone may ask: "任何人让您转到个人账户都不要转"
    r"(?:任何人|谁|有人|不管谁)(?:让|叫|要|找)(?:您|你)|"
    r"\b(?:some (?:people|banks|advisers|advisors|places|clients)|other banks|people|you|they|your friend|"
    r"a lot of people|many people|anyone|anybody)\s+(?:say|said|claim|claimed|think|thought|asked|asks|want|wanted|"
    r"wants|told you|tells you|heard)"
)
_REJECTION = re.compile(
    r"不一样|不是这样|不搞|不允许|不评价|不对|没有这回事|别信|不可信|不靠谱|乱说|瞎说|误导|不能信|这个不行|这不行|"
    r"真不行|不行的|办不了|不能这么|不可以|不能给您|不能帮您|"
    r"我(?:都|就|每次都|一直)?(?:跟[他她您你]们?)?(?:说|讲|回答|告诉[他她您你]们?)(?:了)?(?:不|没|必须|只能|要本人)|"
    r"不是的|没这回事|哪有这种|都不要|都别|都不能|千万别|千万不要|\bhang up\b|"
    r"\bnot true\b|\bwrong\b|\bmisleading\b|\bwe don't\b|\bi can't\b|\bi cannot\b|\bnot allowed\b|"
    r"\bit isn't\b|\bit's not\b|\bit is not\b|\bthat's not\b|\bthat isn't\b|\bnot the case\b|\bno,"
)
# "您问收益啊，我跟您交个底，…": the repeated question ends at a particle before a comma;
# the answer after it is the advisor's own.
_QUESTION_HEAD_END = re.compile(r"[啊呀嘛吧呢哈][,，]")


def dismissal(norm: str, start: int, end: int) -> str:
    """Why a hit spanning ``norm[start:end]`` is not a statement of the speaker: "" when
    it is, else "question" or "correction"."""
    if is_question(norm, end):
        return "question"
    s, e = _sentence_bounds(norm, start, end)
    if e < len(norm) and norm[e] in "?？":
        # "保本？现在没有这种产品了": the answer to a question follows it.
        e = _sentence_bounds(norm, e + 1, e + 1)[1]
    reported = _REPORTED_QUESTION.match(norm, s)
    if reported:
        head = _QUESTION_HEAD_END.search(norm, reported.end(), start)
        if not head:
            return "question"
    if _CORRECTION.search(norm, end, e):
        return "correction"
    if _REJECTION.search(norm, end, e) and _QUOTED.search(norm, s, start):
        return "correction"
    return ""


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
    parts: tuple[tuple[int, int, str], ...] = ()  # a concept rule's matched parts: (start, end, group)
    reason: str = ""  # why a suppressed hit was suppressed: negation, question, correction, unless

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
    model_findings: list[ModelFinding] = field(default_factory=list)  # the classifier's second opinion

    @property
    def is_clean(self) -> bool:
        return not self.findings and not self.missing_disclosures

    @property
    def flagged(self) -> bool:
        """Whether surveillance raises a flag: a rule finding or a model finding."""
        return bool(self.findings or self.model_findings)

    def as_json(self) -> dict:
        return {
            "findings": [f.as_json() for f in self.findings] + [m.as_json() for m in self.model_findings],
            "missing_disclosures": [d.code for d in self.missing_disclosures],
        }


# --- the compiled scanner ----------------------------------------------------------------

_ASCII_WORD = re.compile(r"[a-z0-9]")
_NEG_CHARS = re.compile(r"[不没无非未别勿莫否禁绝]|not|no|never|n't|without")


class KeyIndex:
    """Every occurrence of a set of keys (phrases, group terms, regex triggers) in a batch of
    texts, as an Aho-Corasick automaton would report them: ``(end index, value)`` ordered by
    end, the longest key first at the same end.

    Found in a few vectorised NumPy steps over the whole batch instead of a pass text by text:
    tables indexed by code point say which characters start, continue (second) or continue
    (third) a key, so only positions where a key could start are looked at; their runs of
    one, two and three code points (packed, 21 bits each) are looked up by binary search among
    the keys of that length, a key of four characters or more by its first three, and only
    those few candidates are checked in Python with ``str.startswith``.
    """

    def __init__(self, entries: Mapping[str, object], silent: Sequence[str] = ()):
        self.reported = len(entries)  # keys past these (``silent``) are located, never reported
        self.keys = list(entries) + [k for k in silent if k not in entries]
        self._values = list(entries.values()) + [None] * (len(self.keys) - len(entries))
        self._values_array = np.empty(len(self._values), dtype=object)
        for i, value in enumerate(self._values):
            self._values_array[i] = value  # one by one: numpy would unpack the tuples
        size = max((ord(c) for k in self.keys for c in k[:3]), default=0) + 2
        self._size = size  # code points from size - 1 up share the last, empty slot
        self._single = np.full(size, -1, dtype=np.int64)  # code point -> one-character key
        self._starts = np.zeros(size, dtype=bool)  # first character of a longer key
        self._second = np.zeros(size, dtype=bool)
        self._third = np.zeros(size, dtype=bool)
        for i, key in enumerate(self.keys):
            if len(key) == 1:
                self._single[ord(key)] = i
                continue
            self._starts[ord(key[0])] = True
            self._second[ord(key[1])] = True
            if len(key) >= 3:
                self._third[ord(key[2])] = True
        self._exact: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for n in (2, 3):
            pairs = sorted((_pack(k), i) for i, k in enumerate(self.keys) if len(k) == n)
            self._exact[n] = (
                np.array([c for c, _i in pairs], dtype=np.int64),
                np.array([i for _c, i in pairs], dtype=np.int64),
            )
        by_prefix: dict[int, list[tuple[str, int]]] = {}
        for i, key in enumerate(self.keys):
            if len(key) >= 4:
                by_prefix.setdefault(_pack(key[:3]), []).append((key, i))
        prefixes = sorted(by_prefix)
        self._prefix_codes = np.array(prefixes, dtype=np.int64)
        self._prefix_keys = [by_prefix[c] for c in prefixes]

    def matches(self, norms: Sequence[str]) -> list[tuple[list[int], list]]:
        """Per text, its key occurrences in automaton order: their end indices and the keys'
        values, two lists (no tuple a match: a batch has tens of thousands)."""
        return self.split(norms, self.locate(norms))

    def locate(self, norms: Sequence[str]) -> tuple[np.ndarray, ...]:
        """The key occurrences of a batch as arrays in automaton order: the end index in the
        joined batch, the key's length and id, the text's index; and each text's offset in
        the joined batch (texts joined by a NUL: no key matches across two texts)."""
        empty = np.zeros(0, dtype=np.int64)
        starts = np.cumsum([0] + [len(norm) + 1 for norm in norms])
        if not norms or not self.keys:
            return empty, empty, empty, empty, starts
        joined = "\x00".join(norms)  # keys hold no NUL: no key matches across two texts
        chars = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        slot = np.minimum(chars, self._size - 1)
        ends, lengths, ids = [], [], []
        single = self._single[slot]
        hit = np.flatnonzero(single >= 0)
        ends.append(hit)
        lengths.append(np.ones(len(hit), dtype=np.int64))
        ids.append(single[hit])
        # Positions where a key of two characters or more may start, then of three or more.
        at2 = np.flatnonzero(self._starts[slot[:-1]] & self._second[slot[1:]])
        pair = (chars[at2] << 21) | chars[at2 + 1]
        self._lookup(2, at2, pair, ends, lengths, ids)
        at3_mask = at2 + 2 < len(chars)
        at3 = at2[at3_mask]
        keep3 = self._third[slot[at3 + 2]]
        at3 = at3[keep3]
        triple = (pair[at3_mask][keep3] << 21) | chars[at3 + 2]
        self._lookup(3, at3, triple, ends, lengths, ids)
        if len(self._prefix_codes) and len(at3):
            codes = self._prefix_codes
            at = np.minimum(np.searchsorted(codes, triple), len(codes) - 1)
            found = np.flatnonzero(codes[at] == triple)
            long_ends, long_lengths, long_ids = [], [], []
            prefix_keys, startswith = self._prefix_keys, joined.startswith
            for p, k in zip(at3[found].tolist(), at[found].tolist(), strict=True):
                for key, i in prefix_keys[k]:
                    if startswith(key, p):
                        long_ends.append(p + len(key) - 1)
                        long_lengths.append(len(key))
                        long_ids.append(i)
            if long_ids:
                ends.append(np.array(long_ends, dtype=np.int64))
                lengths.append(np.array(long_lengths, dtype=np.int64))
                ids.append(np.array(long_ids, dtype=np.int64))
        end = np.concatenate(ends)
        if not len(end):
            return empty, empty, empty, empty, starts
        length, key_id = np.concatenate(lengths), np.concatenate(ids)
        order = np.lexsort((-length, end))
        end, length, key_id = end[order], length[order], key_id[order]
        text = np.searchsorted(starts, end, side="right") - 1
        return end, length, key_id, text, starts

    def split(
        self, norms: Sequence[str], located: tuple[np.ndarray, ...], wanted: np.ndarray | None = None
    ) -> list[tuple[list[int], list]]:
        """:meth:`locate`'s occurrences as :meth:`matches` gives them, per text; with
        ``wanted`` (a boolean a text), only for those texts (the others get empty lists)."""
        end, _length, key_id, text, starts = located
        if not len(end):
            return [([], []) for _ in norms]
        keep = key_id < self.reported
        if wanted is not None:
            keep &= wanted[text]
        if not keep.all():
            end, key_id, text = end[keep], key_id[keep], text[keep]
        local = (end - starts[text]).tolist()
        values = self._values_array[key_id].tolist()
        bounds = np.searchsorted(text, np.arange(len(norms) + 1)).tolist()
        return [(local[a:b], values[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]

    def _lookup(self, n: int, positions: np.ndarray, packed: np.ndarray, ends: list, lengths: list, ids: list):
        codes, key_ids = self._exact[n]
        if not len(codes) or not len(positions):
            return
        at = np.minimum(np.searchsorted(codes, packed), len(codes) - 1)
        hit = np.flatnonzero(codes[at] == packed)
        ends.append(positions[hit] + (n - 1))
        lengths.append(np.full(len(hit), n, dtype=np.int64))
        ids.append(key_ids[at[hit]])


def _pack(gram: str) -> int:
    """A run of characters as one integer: its code points, 21 bits each."""
    code = 0
    for ch in gram:
        code = (code << 21) | ord(ch)
    return code


@dataclass(frozen=True)
class _ConceptRule:
    spec: RuleSpec
    expression: ConceptExpression
    keys: tuple[str, ...]  # group names, literals as '"..."'
    window: int
    key_set: frozenset[str] = frozenset()


class _Prefilter:
    """Which texts of a batch can give a rule hit at all, decided for the whole batch from
    :meth:`KeyIndex.locate`'s arrays, so that most notes skip the rule logic.

    A text goes the full way (``Scanner.scan``) when one of its key occurrences is a phrase
    rule, an English word (word boundaries to check) or a trigger of a group's regular
    expression; when a triggered rule regex matches it (tried only when, for each set of
    :func:`regex_factors`, one of the literals every match must hold occurs: the literals
    are silent keys of the same key index); or when every part found by the key index of
    some concept rule is present (after spoken fillers hide their terms) — for a rule with
    a lazily searched group (numbers), when that group's expression then matches.
    Otherwise the scan finds no hit, suppresses none and evaluates no lazy group, exactly:
    its result is empty and its concept features are the groups present. Deciding "full"
    for a text that needed it not is always safe; the reverse never happens
    (``test_scan_many_gives_what_scan_gives_text_by_text`` checks the corpus and the
    benchmark's notes)."""

    def __init__(self, scanner: Scanner, entries: Mapping[str, tuple]):
        self.always = bool(scanner._untriggered)  # a rule regex with no trigger runs on every text
        names: dict[str, int] = {}

        def name_id(name: str) -> int:
            return names.setdefault(name, len(names))

        regex_ids: dict[int, int] = {}
        self.regexes: list[re.Pattern] = []
        guarded: list[str] = []  # the pattern of each regex, then of each lazy group's terms
        values = list(entries.values())
        self.slow_key = np.zeros(len(values), dtype=bool)
        key_names: list[list[int]] = []
        key_regexes: list[list[int]] = []
        for i, (_length, specs, rules, cjk_groups, latin_groups, term_regexes) in enumerate(values):
            self.slow_key[i] = bool(specs or latin_groups or term_regexes)
            key_names.append([name_id(name) for name in cjk_groups])
            ids = []
            for compiled, _spec in rules:
                if id(compiled) not in regex_ids:
                    regex_ids[id(compiled)] = len(self.regexes)
                    self.regexes.append(compiled)
                    guarded.append(compiled.pattern)
                ids.append(regex_ids[id(compiled)])
            key_regexes.append(ids)
        self.filler = name_id(scanner._filler) if scanner._filler and scanner._filler_groups else -1
        affected = [name_id(name) for name in scanner._filler_groups] if self.filler >= 0 else []
        # Concept rules: the parts the key index finds (eager), and the lazy groups.
        concepts = [entry for entries_ in scanner._concepts_by_first.values() for entry in entries_]
        concepts += scanner._concepts_lazy_first
        eager = [[name_id(k) for k in sorted(entry[2])] for entry in concepts]
        self.lazy = [tuple(entry[3]) for entry in concepts]
        self.lazy_groups = scanner._lazy_groups
        lazy_names = sorted({g for lazy in self.lazy for g in lazy})
        self.lazy_index = {g: i for i, g in enumerate(lazy_names)}
        term_of: list[int] = []  # guarded row -> lazy group (for the rows after the regexes)
        for g, name in enumerate(lazy_names):
            for pattern in scanner._lazy_terms[name]:
                guarded.append(pattern)
                term_of.append(g)
        self.size = len(names)
        self.affected = np.zeros(self.size, dtype=bool)
        self.affected[affected] = True
        # name -> the concepts it is an eager part of; a concept's count of eager parts
        concepts_of_name: list[list[int]] = [[] for _ in range(self.size)]
        for column, ids in enumerate(eager):
            for i in ids:
                concepts_of_name[i].append(column)
        self.concepts_of_name = _csr(concepts_of_name, width=len(concepts))
        self.needed = np.array([len(ids) for ids in eager], dtype=np.int64)
        self.has_lazy = np.array([bool(lazy) for lazy in self.lazy], dtype=bool)
        self.feature_names = [""] * self.size
        for name, i in names.items():
            self.feature_names[i] = "g:" + name
        # The literals the guarded expressions need: silent keys of the key index where not
        # keys already.
        literals: dict[str, int] = {}
        factor_ids: dict[frozenset[str], int] = {}
        rows: list[list[int]] = []
        for pattern in guarded:
            row = []
            for factor in regex_factors(pattern):
                if factor not in factor_ids:
                    factor_ids[factor] = len(factor_ids)
                    for literal in factor:
                        literals.setdefault(literal, len(literals))
                row.append(factor_ids[factor])
            rows.append(row)
        self.n_literals, self.n_factors = len(literals), len(factor_ids)
        factors_of_literal: list[list[int]] = [[] for _ in literals]
        for factor, f in factor_ids.items():
            for literal in factor:
                factors_of_literal[literals[literal]].append(f)
        self.factors_of_literal = _csr(factors_of_literal)
        guarded_of_factor: list[list[int]] = [[] for _ in factor_ids]
        for g, row in enumerate(rows):
            for f in row:
                guarded_of_factor[f].append(g)
        self.guarded_of_factor = _csr(guarded_of_factor, width=len(guarded))
        self.guards_needed = np.array([len(row) for row in rows], dtype=np.int64)
        self.n_regexes = len(self.regexes)
        self.lazy_terms = {
            name: np.array([self.n_regexes + i for i, g in enumerate(term_of) if g == k], dtype=np.int64)
            for name, k in self.lazy_index.items()
        }
        self.silent_keys = [literal for literal in literals if literal not in entries]
        order = list(entries) + self.silent_keys
        self.literal_of_key = np.full(len(order), -1, dtype=np.int64)
        for i, key in enumerate(order):
            if key in literals:
                self.literal_of_key[i] = literals[key]
        n_silent = len(self.silent_keys)
        self.slow_key = np.concatenate([self.slow_key, np.zeros(n_silent, dtype=bool)])
        self.names_of_key = _csr(key_names + [[]] * n_silent)
        self.regexes_of_key = _csr(key_regexes + [[]] * n_silent)

    def judge(self, norms: Sequence[str], located: tuple[np.ndarray, ...]) -> tuple[np.ndarray, tuple]:
        """Whether each text needs the full scan, and which groups each text holds (text and
        group index pairs, by text). Sparse counting (``np.bincount``), no dense product: the
        batch holds ~20 groups a text of about a hundred."""
        end, length, key_id, text, _starts = located
        n = len(norms)
        slow = np.full(n, self.always, dtype=bool)
        if not len(end) or self.always:
            empty = np.zeros(0, dtype=np.int64)
            return slow, (empty, empty)
        slow[text[self.slow_key[key_id]]] = True
        match, name = _expand(self.names_of_key, key_id)
        if self.filler >= 0 and len(name):
            # A group term inside a spoken filler is not said (``_drop_inside_fillers``).
            is_filler = name == self.filler
            hidden = self.affected[name]
            if is_filler.any() and hidden.any():
                f_end = end[match[is_filler]] + 1
                f_start = f_end - length[match[is_filler]]
                order = np.argsort(f_start, kind="stable")
                f_start, reach = f_start[order], np.maximum.accumulate(f_end[order])
                h = match[hidden]
                h_end = end[h] + 1
                before = np.searchsorted(f_start, h_end - length[h], side="right") - 1
                inside = np.zeros(len(h), dtype=bool)
                ok = before >= 0
                inside[ok] = reach[before[ok]] >= h_end[ok]
                keep = np.ones(len(name), dtype=bool)
                keep[np.flatnonzero(hidden)[inside]] = False
                match, name = match[keep], name[keep]
        rows, names = _distinct(text[match], name, self.size)
        complete = _counts(rows, names, self.concepts_of_name, n) >= self.needed
        if len(self.has_lazy):
            slow |= complete[:, ~self.has_lazy].any(axis=1)
        # What the guarded expressions could match: each set of needed literals has one.
        literal = self.literal_of_key[key_id]
        found = literal >= 0
        lit_rows, literals = _distinct(text[found], literal[found], self.n_literals)
        factor_rows, factors = _distinct(*_expand_pairs(lit_rows, literals, self.factors_of_literal), self.n_factors)
        possible = _counts(factor_rows, factors, self.guarded_of_factor, n) >= self.guards_needed
        lazy, lazy_groups = self.lazy, self.lazy_groups
        could = {g: possible[:, terms].any(axis=1) for g, terms in self.lazy_terms.items()}
        for column in np.flatnonzero(self.has_lazy).tolist():
            for row in np.flatnonzero(complete[:, column] & ~slow).tolist():
                for g in lazy[column]:
                    if could[g][row] and any(m.end() > m.start() for m in lazy_groups[g].finditer(norms[row])):
                        slow[row] = True
                        break
        match, regex = _expand(self.regexes_of_key, key_id)
        if len(regex):
            r_rows = text[match]
            keep = possible[r_rows, regex] & ~slow[r_rows]
            regexes = self.regexes
            for row, r in zip(*_distinct(r_rows[keep], regex[keep], self.n_regexes), strict=True):
                if not slow[row] and any(m.end() > m.start() for m in regexes[r].finditer(norms[row])):
                    slow[row] = True
        return slow, (rows, names)

    def features(self, n: int, present: tuple) -> list[set[str]]:
        """Each text's concept features as the full scan gives them for a text with no hit."""
        rows, columns = present
        bounds = np.searchsorted(rows, np.arange(n + 1)).tolist()
        names, columns = self.feature_names, columns.tolist()
        return [{names[c] for c in columns[a:b]} for a, b in zip(bounds, bounds[1:], strict=False)]


def _distinct(rows: np.ndarray, values: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct (row, value) pairs, ordered by row then value."""
    codes = np.sort(rows * width + values)  # a sort: np.unique's hash path is slower here
    if len(codes):
        codes = codes[np.concatenate(([True], codes[1:] != codes[:-1]))]
    return codes // width, codes % width


def _expand_pairs(rows: np.ndarray, values: np.ndarray, csr: tuple) -> tuple[np.ndarray, np.ndarray]:
    pair, mapped = _expand(csr, values)
    return rows[pair], mapped


def _counts(rows: np.ndarray, values: np.ndarray, csr: tuple, n: int) -> np.ndarray:
    """For distinct (row, value) pairs: per row, how many values map (``csr``) to each column."""
    width = csr[2]
    pair, column = _expand(csr, values)
    return np.bincount(rows[pair] * width + column, minlength=n * width).reshape(n, width)


def _csr(rows: Sequence[Sequence[int]], width: int | None = None) -> tuple[np.ndarray, np.ndarray, int]:
    """Rows of integers as (offsets, values, number of columns)."""
    offsets = np.cumsum([0] + [len(r) for r in rows]).astype(np.int64)
    flat = np.array([v for r in rows for v in r], dtype=np.int64)
    return offsets, flat, width if width is not None else (int(flat.max()) + 1 if len(flat) else 0)


def _expand(csr: tuple[np.ndarray, np.ndarray, int], ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For occurrences of keys ``ids``, one (occurrence, value) pair per value of its key."""
    offsets, flat, _width = csr
    counts = offsets[ids + 1] - offsets[ids]
    occurrence = np.repeat(np.arange(len(ids)), counts)
    if not len(occurrence):
        return occurrence, occurrence
    first = np.cumsum(counts) - counts
    within = np.arange(len(occurrence)) - np.repeat(first, counts)
    return occurrence, flat[offsets[ids][occurrence] + within]


class Scanner:
    """A compiled lexicon. Build once, scan many texts (thread-safe for reads).

    ``groups`` maps concept-group names to their terms; concept rules may name only those.
    """

    def __init__(
        self,
        rules: Iterable[RuleSpec],
        groups: Mapping[str, Sequence[str]] | None = None,
        classifier: Classifier | None = None,
    ):
        self.rules: list[RuleSpec] = []
        self.classifier = classifier
        self.broken: dict[str, list[str]] = {}  # rule code -> concept groups it names that do not exist
        groups = groups or {}
        # key -> (phrase specs, regex rules it triggers, concept keys it is a term of, regex terms it triggers)
        keys: dict[str, tuple[list, list, list, list]] = {}
        self._untriggered: list[tuple[re.Pattern, RuleSpec]] = []
        self._untriggered_terms: list[tuple[re.Pattern, str]] = []
        self._lazy_terms: dict[str, list[str]] = {}  # the expressions of each untriggered group
        self._concepts: list[_ConceptRule] = []
        used_groups: set[str] = set()
        literal_parts: set[str] = set()
        for rule in rules:
            self.rules.append(rule)
            if rule.is_regex:
                compiled = re.compile(rule.pattern)  # fails here, with the rule at hand, on a bad pattern
                triggers = regex_triggers(rule.pattern)
                if not triggers:
                    self._untriggered.append((compiled, rule))
                    continue
                for trigger in triggers:
                    keys.setdefault(normalise(trigger), ([], [], [], []))[1].append((compiled, rule))
            elif is_concept_expression(rule.pattern):
                expression = parse_expression(rule.pattern)
                missing = sorted(expression.groups() - set(groups))
                if missing:
                    # The lexicon service refuses such a rule; one left by a deleted group is
                    # skipped (and listed) rather than stopping every scan.
                    self.broken[rule.code] = missing
                    continue
                used_groups |= expression.groups()
                literal_parts |= {normalise(p.literal) for p in expression.parts if p.literal}
                window = expression.window or DEFAULT_WINDOW.get(rule.language, DEFAULT_WINDOW["zh"])
                parts = tuple(p.key for p in expression.parts)
                self._concepts.append(_ConceptRule(rule, expression, parts, window, frozenset(parts)))
            else:
                key = normalise(rule.pattern.strip())
                if key:
                    keys.setdefault(key, ([], [], [], []))[0].append(rule)
        # Disclosure contexts (a category's disclosure group in the same sentence keeps any
        # of its rules from firing) and spoken fillers (group terms inside one are none).
        self._disclosure = {
            key: name for key, name in DISCLOSURE_GROUPS.items() if name in groups and not _regex_only(groups[name])
        }
        used_groups |= set(self._disclosure.values())
        self._filler = FILLER_GROUP if FILLER_GROUP in groups else ""
        self._filler_groups: tuple[str, ...] = ()  # groups with a term inside a filler term
        if self._filler:
            used_groups.add(self._filler)
            fillers = [normalise(t) for t in groups[self._filler] if not t.startswith("re:")]
            self._filler_groups = tuple(
                sorted(
                    name
                    for name in used_groups - {self._filler}
                    if any(
                        normalise(t).rstrip("*") in f for t in groups[name] if not t.startswith("re:") for f in fillers
                    )
                )
            )
        for literal in literal_parts:
            keys.setdefault(literal, ([], [], [], []))[2].append(f'"{literal}"')
        for name in sorted(used_groups):
            # A group's regular-expression terms run as one alternation, and only when one
            # of their leading literals occurred (or always, if one has none).
            regex_terms = [t[3:] for t in groups[name] if t.startswith("re:")]
            if regex_terms:
                combined = re.compile("|".join(f"(?:{normalise(t)})" for t in regex_terms))
                all_triggers = [regex_triggers(t) for t in regex_terms]
                if any(not t for t in all_triggers):
                    self._untriggered_terms.append((combined, name))
                    self._lazy_terms[name] = [normalise(t) for t in regex_terms]
                else:
                    for trigger in {normalise(x) for t in all_triggers for x in t}:
                        keys.setdefault(trigger, ([], [], [], []))[3].append((combined, name))
            for term in groups[name]:
                if term.startswith("re:"):
                    continue
                key = normalise(term.strip())
                if key:
                    keys.setdefault(key.rstrip("*") if key.isascii() else key, ([], [], [], []))[2].append(
                        ("*" + name) if key.endswith("*") else name
                    )
        entries: dict[str, tuple] = {}
        for key, (specs, regexes, concept_keys, term_regexes) in keys.items():
            # Chinese terms need no word-boundary check: the hot loop skips it for them.
            cjk = tuple(dict.fromkeys(k for k in concept_keys if not key.isascii()))
            latin = tuple(dict.fromkeys((k.lstrip("*"), k.startswith("*")) for k in concept_keys if key.isascii()))
            entries[key] = (len(key), tuple(specs), tuple(regexes), cjk, latin, tuple(term_regexes))
        self._has_keys = bool(entries)
        # Concept rules indexed by their first part: a text is checked only against the
        # rules whose first part occurred (a few), not against all of them.
        # Each entry: (position in the lexicon, rule, its parts found by the automaton, its
        # parts that are lazy groups).
        self._concepts_by_first: dict[str, list[tuple[int, _ConceptRule, frozenset, tuple]]] = {}
        self._lazy_groups: dict[str, re.Pattern] = {name: compiled for compiled, name in self._untriggered_terms}
        self._concepts_lazy_first: list[tuple[int, _ConceptRule, frozenset, tuple]] = []
        for position, concept in enumerate(self._concepts):
            lazy_keys = tuple(k for k in concept.keys if k in self._lazy_groups)
            entry = (position, concept, concept.key_set - set(lazy_keys), lazy_keys)
            if concept.keys[0] in self._lazy_groups:
                self._concepts_lazy_first.append(entry)
            else:
                self._concepts_by_first.setdefault(concept.keys[0], []).append(entry)
        self._prefilter = _Prefilter(self, entries)
        self._keys = KeyIndex(entries, silent=self._prefilter.silent_keys)

    def _raw_hits(
        self,
        norm: str,
        features: set[str] | None = None,
        matches: list | None = None,
        group_hits_out: dict | None = None,
    ) -> list[tuple[int, int, RuleSpec, tuple]]:
        """Hits of one pass over the keys: phrases, triggered regexes and concept rules.
        ``matches`` are the text's key matches when the caller found them for a batch;
        ``group_hits_out``, when given, is filled with the groups' occurrences.

        With ``features``, adds the concept features the classifier reads: each concept
        group present ("g:loss"), marked when the first occurrence is negated ("g:loss!")."""
        hits: list[tuple[int, int, RuleSpec, tuple]] = []
        to_run: list[tuple[re.Pattern, RuleSpec]] = []
        group_hits: dict[str, list[tuple[int, int]]] = {} if group_hits_out is None else group_hits_out
        terms_to_run: list[tuple[re.Pattern, str]] = []
        if self._has_keys:
            if matches is None:
                matches = self._keys.matches([norm])[0]
            ends, values = matches
            for end_index, (length, specs, regexes, cjk_groups, latin_groups, term_regexes) in zip(
                ends, values, strict=True
            ):
                if cjk_groups:
                    for name in cjk_groups:
                        if name in group_hits:
                            found = group_hits[name]
                            # The longest term of a group at one end is the one said ("别犹豫",
                            # not "犹豫" negated by its own 别): the automaton reports it first.
                            if found[-1][1] != end_index + 1:
                                found.append((end_index - length + 1, end_index + 1))
                        else:
                            group_hits[name] = [(end_index - length + 1, end_index + 1)]
                if specs or latin_groups:
                    start = end_index - length + 1
                    end = end_index + 1
                    for spec in specs:
                        if spec.language == "en" and not _word_bounded(norm, start, end):
                            continue
                        hits.append((start, end, spec, ()))
                    for name, prefix in latin_groups:
                        if prefix:  # an English word prefix ("guarantee*")
                            if not _start_bounded(norm, start):
                                continue
                        elif not _word_bounded(norm, start, end):
                            continue
                        group_hits.setdefault(name, []).append((start, end))
                if regexes:
                    to_run.extend(regexes)
                if term_regexes:
                    terms_to_run.extend(term_regexes)
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
                        hits.append((m.start(), m.end(), spec, ()))
        if terms_to_run:
            done: set[str] = set()
            for compiled, name in terms_to_run:
                if name in done:
                    continue
                done.add(name)
                for m in compiled.finditer(norm):
                    if m.end() > m.start():
                        group_hits.setdefault(name, []).append((m.start(), m.end()))
        if features is not None:
            features.update("r:" + spec.category for _s, _e, spec, _x in hits)
        if self._filler_groups and self._filler in group_hits:
            _drop_inside_fillers(group_hits, self._filler, self._filler_groups)
        if group_hits or self._concepts_lazy_first:
            present = group_hits.keys()  # a live view: lazy groups join it once evaluated
            by_first = self._concepts_by_first
            candidates = [c for name in present if name in by_first for c in by_first[name]]
            candidates += self._concepts_lazy_first
            lazy, evaluated = self._lazy_groups, set()
            stops = None
            concept_hits = []
            for position, concept, eager_keys, lazy_keys in candidates:
                if not eager_keys <= present:
                    continue
                # A group of untriggered expressions (numbers: {pct}, {amount}) is searched
                # only when it is all a rule still needs: it is the costliest part of a
                # scan and most texts never need it.
                missing = False
                for name in lazy_keys:
                    if name in present:
                        continue
                    if name not in evaluated:
                        evaluated.add(name)
                        found = [(m.start(), m.end()) for m in lazy[name].finditer(norm) if m.end() > m.start()]
                        if found:
                            group_hits[name] = found
                            continue
                    missing = True
                    break
                if missing:
                    continue
                spans = _concept_spans(concept, group_hits)
                if spans:
                    # A concept rule is one statement: its parts stand in one sentence.
                    if stops is None:
                        stops = [m.start() for m in _SENTENCE_STOP.finditer(norm)]
                    if stops:
                        spans = [h for h in spans if bisect_left(stops, h[0]) == bisect_left(stops, h[1])]
                if spans:
                    for name in concept.expression.unless:
                        if name in lazy and name not in evaluated:
                            evaluated.add(name)
                            found = [(m.start(), m.end()) for m in lazy[name].finditer(norm) if m.end() > m.start()]
                            if found:
                                group_hits[name] = found
                    s, e, _parts = spans[0]
                    concept_hits.append(
                        (position, (s, e, concept.spec, (spans, concept.expression.unless, group_hits)))
                    )
            if len(concept_hits) > 1:
                concept_hits.sort(key=lambda pc: pc[0])  # the rules' order, as in the lexicon
            hits.extend(hit for _position, hit in concept_hits)
        if features is not None:
            features.update("g:" + name for name in group_hits)
        return hits

    def scan(
        self,
        text: str,
        *,
        product_type: str | None = None,
        product_risk_level: int | None = None,
        check_disclosures: bool | None = None,
        features_out: set[str] | None = None,
        use_model: bool = True,
        normalised: str | None = None,
        matches: list | None = None,
    ) -> ScanResult:
        """Scan ``text`` with the rules and, when the scanner has one and ``use_model``, the
        classifier (script checks do without: its opinion never blocks approval).

        ``features_out`` receives the concept features of the text (what the classifier
        reads besides its character n-grams): used to train it. ``normalised`` is
        ``normalise(text)`` when the caller has it already (:meth:`scan_many`), and
        ``matches`` its key occurrences (``KeyIndex.matches``)."""
        classifier = self.classifier if use_model else None
        norm = normalised if normalised is not None else normalise(text or "")
        features = features_out if features_out is not None else (set() if classifier is not None else None)
        group_hits: dict[str, list[tuple[int, int]]] = {}
        hits = self._raw_hits(norm, features, matches, group_hits)
        findings: list[Finding] = []
        suppressed: list[Finding] = []
        if hits:
            disclosure = self._disclosure
            allows = [(s, e) for s, e, spec, _x in hits if spec.is_allow]
            judged: list[tuple[int, int, RuleSpec, tuple, str]] = []
            for s, e, spec, extra in hits:
                if spec.is_allow or any(a_s <= s and e <= a_e for a_s, a_e in allows):
                    continue
                if extra:  # a concept rule: the first of its spans that stands, else the shortest
                    options = []
                    for alt_s, alt_e, parts in extra[0]:
                        if allows and any(a_s <= alt_s and alt_e <= a_e for a_s, a_e in allows):
                            continue
                        reason = (
                            self._suppression(norm, alt_s, alt_e, parts, extra, spec.category)
                            if spec.negation_suppresses
                            else ""
                        )
                        options.append((alt_s, alt_e, parts, reason))
                        if not reason:
                            break
                    if not options:
                        continue
                    alt_s, alt_e, parts, reason = options[-1] if not options[-1][3] else options[0]
                else:
                    alt_s, alt_e, parts = s, e, ()
                    reason = self._suppression(norm, s, e, (), (), spec.category) if spec.negation_suppresses else ""
                if not reason and spec.negation_suppresses and disclosure:
                    name = disclosure.get((spec.category, spec.language))
                    if name in group_hits and _disclosed(norm, alt_s, alt_e, group_hits[name]):
                        reason = "disclosure"
                judged.append((alt_s, alt_e, spec, parts, reason))
            # A hit inside a longer standing hit (保本 inside 保本保息) is the same statement;
            # the same words caught by a phrase and a pattern give one finding.
            judged.sort(key=lambda h: (bool(h[4]), h[0], -(h[1] - h[0])))
            kept: list[tuple[int, int]] = []
            for s, e, spec, parts, reason in judged:
                if any(k_s <= s and e <= k_e for k_s, k_e in kept):
                    continue
                if reason and any(k_s < e and s < k_e for k_s, k_e in kept):
                    continue  # a negated reading of words another rule flags
                kept.append((s, e))
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
                    parts=parts,
                    reason=reason,
                )
                (suppressed if reason else findings).append(finding)
            findings.sort(key=lambda f: (f.start, f.end))
            suppressed.sort(key=lambda f: (f.start, f.end))
        if features is not None:
            features.update(f"r:{f.category}" for f in findings)
            features.update(f"r:{f.category}!" for f in suppressed)
        model_findings: list[ModelFinding] = []
        if classifier is not None:
            # A second opinion: only where no rule already found the same category.
            model_findings = _second_opinion(classifier.predict(norm, tuple(features)), findings)
        levels: list[int] = []
        missing: list[MissingDisclosure] = []
        if check_disclosures is None:
            check_disclosures = product_type is not None
        if check_disclosures:
            levels = stated_risk_levels(norm)
            missing = missing_disclosures(norm, product_type=product_type, product_risk_level=product_risk_level)
        return ScanResult(
            findings=findings,
            missing_disclosures=missing,
            suppressed=suppressed,
            stated_risk_levels=levels,
            model_findings=model_findings,
        )

    def scan_many(self, texts: Sequence[str], *, use_model: bool = True) -> list[ScanResult]:
        """:meth:`scan` of many texts (batch, surveillance of a date range, the benchmark):
        the rules run text by text, the classifier scores the whole batch in one matrix
        operation instead of a few small ones per text."""
        with _cyclic_gc_paused():
            return self._scan_many(texts, use_model=use_model)

    def _scan_many(self, texts: Sequence[str], *, use_model: bool) -> list[ScanResult]:
        classifier = self.classifier if use_model else None
        norms = _normalise_many(texts)
        located = self._keys.locate(norms)
        # Texts where no rule can fire (most notes) skip the rule logic: their result is
        # empty and their concept features are the groups present (see ``_Prefilter``).
        slow, present = self._prefilter.judge(norms, located)
        batch_matches = self._keys.split(norms, located, slow)
        slow_list = slow.tolist()
        if classifier is None:
            return [
                self.scan(text, use_model=False, normalised=norm, matches=matches) if is_slow else ScanResult()
                for text, norm, matches, is_slow in zip(texts, norms, batch_matches, slow_list, strict=True)
            ]
        results, extras = [], []
        present_features = self._prefilter.features(len(texts), present)
        for text, norm, matches, is_slow, features in zip(
            texts, norms, batch_matches, slow_list, present_features, strict=True
        ):
            if is_slow:
                features = set()
                results.append(
                    self.scan(text, features_out=features, use_model=False, normalised=norm, matches=matches)
                )
            else:
                results.append(ScanResult())
            extras.append(features)
        out = []
        for result, predicted in zip(results, classifier.predict_many(norms, extras), strict=True):
            if predicted:
                predicted = _second_opinion(predicted, result.findings)
                if predicted:
                    result = replace(result, model_findings=predicted)
            out.append(result)
        return out

    @staticmethod
    def _suppression(norm: str, s: int, e: int, parts: tuple, extra: tuple, category: str = "") -> str:
        """Why a hit does not stand ("" when it does)."""
        spans = [(ps, pe) for ps, pe, _g in parts] if parts else [(s, e)]
        text = norm
        if len(spans) > 1:
            # A part that carries its own negation ("不会少于") is no cue for the next part.
            chars = None
            for ps, pe in spans:
                if _NEG_CHARS.search(norm, ps, pe):
                    chars = chars or list(norm)
                    chars[ps:pe] = "_" * (pe - ps)
            if chars:
                text = "".join(chars)
        for ps, pe in spans:
            prefix = _clause_prefix(text, ps)
            if _cue_count(prefix) % 2 == 1 and not (_RHETORICAL_NEG.search(prefix) and _RHETORICAL_END.match(norm, pe)):
                if category in _CONDITIONAL_CATEGORIES and _CONDITIONAL.search(_clause_suffix(norm, ps)):
                    continue  # "不买的话贷款要多等", "今天不定就没了": a threat, not a denial
                return "negation"
        refusal = _SPEECH_REFUSAL.search(norm, max(0, s - _PREFIX_MAX), s)
        if refusal and not _CONTRAST.search(norm, refusal.start(), s):
            return "negation"
        if _refuted_after(norm, e):
            return "negation"
        if extra and extra[1]:
            s0, e0 = _sentence_bounds(norm, s, e)
            for name in extra[1]:
                for hs, he in extra[2].get(name, ()):
                    if not (s0 <= hs and he <= e0):
                        continue
                    # "说明书写着不保本，但是我们从来没让客户亏过": a disclaimer before a
                    # contrast that precedes the claim is taken back by it.
                    if he <= s and _CONTRAST.search(norm, he, s):
                        continue
                    return "unless"
        return dismissal(norm, s, e)


@contextmanager
def _cyclic_gc_paused():
    """Pause the cyclic garbage collector for one batch: a batch allocates hundreds of
    thousands of small tuples and lists, none in a reference cycle (reference counting frees
    them), and each allocation burst otherwise triggers collections that walk every object
    of the process (a quarter of a batch's time in the benchmark)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# ``normalise`` as a NumPy table over the code points of the Basic Multilingual Plane: a
# batch's code points mapped in one step (2-3x faster than str.translate, which looks up
# every character of a Chinese text in Python's table).
_NP_TABLE = np.arange(0x10000, dtype=np.uint32)
for _cp, _to in _NORMALISE.items():
    _NP_TABLE[_cp] = _to


def _normalise_many(texts: Sequence[str]) -> list[str]:
    """``normalise`` of each text, in one step over the batch (a separator no text holds;
    text by text when one does)."""
    texts = [t or "" for t in texts]
    joined = "\x00".join(texts)
    if joined.count("\x00") != max(len(texts) - 1, 0):
        return [normalise(t) for t in texts]
    if not texts:
        return []
    chars = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
    mapped = np.where(chars < 0x10000, _NP_TABLE[np.minimum(chars, 0xFFFF)], chars)
    return _fix_slips(mapped.astype("<u4").tobytes().decode("utf-32-le")).split("\x00")


def _regex_only(terms: Sequence[str]) -> bool:
    return all(t.startswith("re:") for t in terms)


# A disclosure conceded before it is said ("虽然有风险，…") does not count.
_CONCEDED = re.compile(r"虽然|虽说|尽管|although|even though")


def _disclosed(norm: str, s: int, e: int, spans: Sequence[tuple[int, int]]) -> bool:
    """Whether a disclosure (one of ``spans``) stands in the sentence of the hit ``s:e``
    with no contrast between the two and not inside the hit."""
    s0, e0 = _sentence_bounds(norm, s, e)
    for ds, de in spans:
        if not (s0 <= ds and de <= e0) or (ds < e and s < de):
            continue
        lo, hi = (de, s) if de <= s else (e, ds)
        if ";" in norm[lo:hi] or _CONCEDED.search(norm, s0, ds):
            continue
        # before the claim, a contrast takes the disclosure back; after it, a contrast
        # introduces the correction ("它跟存款一样，其实不是存款")
        if de > s or not _CONTRAST.search(norm, lo, hi):
            return True
    return False


def _drop_inside_fillers(group_hits: dict[str, list[tuple[int, int]]], filler: str, names: Sequence[str]) -> None:
    fillers = group_hits[filler]
    for name in names:
        if name not in group_hits:
            continue
        kept = [h for h in group_hits[name] if not any(fs <= h[0] and h[1] <= fe for fs, fe in fillers)]
        if kept:
            group_hits[name] = kept
        else:
            del group_hits[name]


def _second_opinion(predicted: list[ModelFinding], findings: list[Finding]) -> list[ModelFinding]:
    """The model's findings for categories no rule already found."""
    if not predicted or not findings:
        return predicted
    ruled = {f.category for f in findings}
    return [m for m in predicted if m.category not in ruled]


def _inside(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Whether span ``a`` lies inside ``b`` past its start."""
    return b[0] < a[0] and a[1] <= b[1]


def _concept_spans(concept: _ConceptRule, group_hits: dict) -> list[tuple[int, int, tuple]]:
    """The spans holding every part of ``concept`` within its window, shortest first (one
    per occurrence of the first part, each with the nearest occurrence of the others)."""
    lists = []
    for key in concept.keys:
        found = group_hits.get(key)
        if not found:
            return []
        lists.append(found)
    out = []
    for anchor in lists[0]:
        chosen = [anchor]
        lo, hi = anchor
        for other in lists[1:]:
            # Two parts are two statements: the same words do not count for both
            # ("就没有了" is no scarcity *and* a push; "换三次" is a switch and how often).
            # Nor do words inside another part's words (保 inside 存款保险), but a part's
            # words may open another's ("换" of "换三次": the switch and how often).
            free = [h for h in other if h not in chosen and not any(_inside(h, c) or _inside(c, h) for c in chosen)]
            if not free:
                break
            pick = min(free, key=lambda h: max(hi, h[1]) - min(lo, h[0]))
            chosen.append(pick)
            lo, hi = min(lo, pick[0]), max(hi, pick[1])
        if len(chosen) == len(lists) and hi - lo <= concept.window:
            out.append((lo, hi, tuple((cs, ce, key) for (cs, ce), key in zip(chosen, concept.keys, strict=True))))
    out.sort(key=lambda h: (h[1] - h[0], h[0]))
    return out


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


_FLAGS = re.compile(r"\(\?[aiLmsux-]")


def regex_factors(pattern: str) -> list[frozenset[str]]:
    """Sets of literals every match of ``pattern`` holds one of (for each item of its
    top-level sequence, the leading literals of the rest from there): a text that lacks
    every literal of one set cannot match. Empty when nothing can be said (flags)."""
    try:
        parsed = sre_parser.parse(pattern)
    except re.error:
        return []
    if parsed.state.flags & (re.IGNORECASE | re.VERBOSE) or _FLAGS.search(pattern):
        return []
    items = list(parsed)
    factors: list[frozenset[str]] = []
    for i in range(len(items) - 1, -1, -1):
        prefixes = _leading(items[i:])
        if prefixes and all(prefixes) and frozenset(prefixes) not in factors:
            factors.append(frozenset(prefixes))
    return factors


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


def _start_bounded(norm: str, start: int) -> bool:
    return start == 0 or not _ASCII_WORD.match(norm[start - 1])


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
            out.append(
                MissingDisclosure(
                    Disclosure.RISK_LEVEL_MISSING, Severity.MEDIUM, "本产品风险等级为（R1至R5中的相应等级）"
                )
            )
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


_model_cache: dict[str, object] = {"key": None, "classifier": None}


def training_snippets() -> list[Snippet]:
    """The labelled corpus: the files in ``compliance/corpus`` and the officers' additions."""
    added = [
        Snippet(text, label, language, f"officer-{pk}", f"officer-{pk}")
        for pk, text, label, language in CorpusEntry.objects.values_list("pk", "text", "label", "language")
    ]
    return load_corpus() + added


def classifier_features(scanner: Scanner, text: str) -> tuple[set[str], ScanResult]:
    """The concept features of ``text`` under ``scanner``'s rules, and the rules' result."""
    features: set[str] = set()
    result = scanner.scan(text, features_out=features)
    return features, result


def classifier_train(snippets: Sequence[Snippet]) -> Classifier:
    """Train the classifier on ``snippets``, with the concept features of the default lexicon
    (so an edit of the lexicon does not retrain it; the active lexicon's features are read
    at scan time, under the same group names)."""
    features_of = Scanner(default_specs(), default_groups())
    extras = [classifier_features(features_of, s.text)[0] for s in snippets]
    return fit(snippets, [normalise(s.text) for s in snippets], extras)


def active_classifier() -> Classifier:
    """The classifier trained on the current corpus, trained at the first scan after a start
    or after officers added to the corpus (a few seconds)."""
    agg = CorpusEntry.objects.aggregate(n=Count("id"), last=Max("id"))
    key = f"{agg['n']}:{agg['last']}"
    if _model_cache["key"] != key or _model_cache["classifier"] is None:
        _model_cache["classifier"] = classifier_train(training_snippets())
        _model_cache["key"] = key
    return _model_cache["classifier"]  # type: ignore[return-value]


def concept_groups() -> dict[str, list[str]]:
    """The concept groups of the lexicon: name -> terms."""
    return {name: parse_terms(terms) for name, terms in ConceptGroup.objects.values_list("name", "terms")}


_cache: dict[str, object] = {"key": None, "scanner": None}


def active_scanner(*, model: bool = True) -> Scanner:
    """The scanner of the lexicon rules active today, rebuilt when the lexicon changes; with
    ``model``, the classifier is attached (trained first if the corpus changed)."""
    key = (LexiconRule.objects.revision_key(), timezone.localdate())
    if _cache["key"] != key or _cache["scanner"] is None:
        _cache["scanner"] = Scanner(rule_specs(LexiconRule.objects.active()), concept_groups())
        _cache["key"] = key
    scanner: Scanner = _cache["scanner"]  # type: ignore[assignment]
    if model:
        scanner.classifier = active_classifier()
    return scanner


def scan_text(text: str, *, product_type: str | None = None, product_risk_level: int | None = None) -> ScanResult:
    """Scan ``text`` with the active lexicon: the entry point other features call.

    With ``product_type`` ("wealth", "fund", ...) the required disclosures are checked
    too; with ``product_risk_level`` the stated risk level must match it.
    """
    return active_scanner().scan(text, product_type=product_type, product_risk_level=product_risk_level)


__all__ = ["Category", "Finding", "MissingDisclosure", "RuleSpec", "ScanResult", "Scanner", "normalise", "scan_text"]
