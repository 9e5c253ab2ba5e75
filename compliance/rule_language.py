"""The concept-rule language of the lexicon: concept groups combined by proximity.

A lexicon rule is a phrase, a regular expression, or a *concept expression* such as::

    {loss} & {compensate}
    {safe} & {deposit} & {comparison} within 16
    {return} & {certain} unless {disclaimer}
    {number_pct} & "到期"

``{name}`` is a concept group (a set of synonyms officers maintain on the lexicon page),
``"..."`` a literal phrase. Every part must occur, in any order, inside a span of at most
``within`` characters (default: 20 for Chinese rules, 60 for English ones). ``unless``
names groups whose presence anywhere in the same sentence keeps the rule from firing: a
statement that deposit insurance does *not* cover the product is clean.

A group term is a phrase; ``re:`` starts a regular expression instead, and an English
term ending in ``*`` matches as a word prefix (``guarantee*`` finds "guaranteed").

The parser is small on purpose: officers read these rules, so the language stays plain.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_WINDOW = {"zh": 20, "en": 60}
MAX_WINDOW = 200
_PART = re.compile(r'\s*(?:\{([a-z][a-z0-9_]*)\}|"([^"]+)")\s*')
_WITHIN = re.compile(r"\s*within\s+(\d+)\s*", re.IGNORECASE)
_UNLESS = re.compile(r"\s*unless\s+(.+)$", re.IGNORECASE)
_GROUP_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


# Groups with a meaning for the scanner itself, read by their names (so they cannot be
# renamed). A category's disclosure group, by (category, language): its terms in the
# sentence of a hit of that category say the opposite of the claim ("这不是存款", "买不买都
# 不影响贷款"), so none of the category's rules fires there; a contrast between the two
# (但是, 不过, "but") keeps the claim ("这不是存款，但是跟存款一样稳").
DISCLOSURE_GROUPS = {
    ("deposit_confusion", "zh"): "not_deposit",
    ("guarantee", "zh"): "not_guaranteed",
    ("time_pressure", "zh"): "no_hurry",
    ("bundling", "zh"): "unrelated",
    ("return_forecast", "zh"): "uncertain",
    ("inducement", "zh"): "no_gift",
    ("deposit_confusion", "en"): "not_deposit_en",
    ("guarantee", "en"): "uncertain_en",
    ("time_pressure", "en"): "no_hurry_en",
    ("bundling", "en"): "unrelated_en",
    ("return_forecast", "en"): "uncertain_en",
    # since the seventh round: advice against switching, a refusal to call it the best
    ("frequent_trading", "zh"): "hold_long",
    ("frequent_trading", "en"): "hold_en",
    ("superlative", "en"): "not_best_en",
    ("credentials", "en"): "never_share_en",
}
# Spoken fillers ("就是说", "我跟您讲") and words that merely contain a term (发送 holds 送):
# a group term inside one is not said.
FILLER_GROUP = "filler"
SCANNER_GROUPS = frozenset(DISCLOSURE_GROUPS.values()) | {FILLER_GROUP}


class RuleSyntaxError(ValueError):
    """A concept expression that does not parse; the message says where."""


@dataclass(frozen=True)
class Part:
    group: str = ""  # a concept group's name, or
    literal: str = ""  # a literal phrase

    @property
    def key(self) -> str:
        return self.group or f'"{self.literal}"'


@dataclass(frozen=True)
class ConceptExpression:
    parts: tuple[Part, ...]
    window: int | None
    unless: tuple[str, ...]

    def groups(self) -> set[str]:
        return {p.group for p in self.parts if p.group} | set(self.unless)


def is_concept_expression(pattern: str) -> bool:
    """Whether a (non-regex) rule pattern is a concept expression rather than a phrase."""
    return "{" in pattern and "}" in pattern


def parse_expression(pattern: str) -> ConceptExpression:
    """Parse ``pattern``; raises :class:`RuleSyntaxError` with a readable reason."""
    text = pattern.strip()
    unless: tuple[str, ...] = ()
    m = _UNLESS.search(text)
    if m:
        names = []
        for raw in m.group(1).split(","):
            name = raw.strip()
            if not (name.startswith("{") and name.endswith("}") and _GROUP_NAME.match(name[1:-1])):
                raise RuleSyntaxError(
                    f"after unless, expected {{group}} names separated by commas, got {raw.strip()!r}"
                )
            names.append(name[1:-1])
        unless = tuple(names)
        text = text[: m.start()]
    window = None
    m = _WITHIN.search(text)
    if m:
        if text[m.end() :].strip():
            raise RuleSyntaxError("within N must come after the parts")
        window = int(m.group(1))
        if not 1 <= window <= MAX_WINDOW:
            raise RuleSyntaxError(f"within must be between 1 and {MAX_WINDOW} characters")
        text = text[: m.start()]
    parts = []
    for chunk in text.split("&"):
        pm = _PART.fullmatch(chunk)
        if not pm:
            raise RuleSyntaxError(f'expected {{group}} or "phrase", got {chunk.strip()!r}')
        parts.append(Part(group=pm.group(1) or "", literal=pm.group(2) or ""))
    if not parts:
        raise RuleSyntaxError("a concept rule needs at least one part")
    return ConceptExpression(parts=tuple(parts), window=window, unless=unless)


def parse_terms(text: str) -> list[str]:
    """The terms of a concept group as officers type them: one per line, blank lines and
    surrounding spaces ignored, duplicates dropped."""
    seen: dict[str, None] = {}
    for line in text.splitlines():
        term = line.strip()
        if term:
            seen.setdefault(term, None)
    return list(seen)


def check_term(term: str) -> None:
    """Raise :class:`RuleSyntaxError` when a regular-expression term does not compile."""
    if term.startswith("re:"):
        try:
            re.compile(term[3:])
        except re.error as exc:
            raise RuleSyntaxError(f"{term!r}: {exc}") from exc


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
