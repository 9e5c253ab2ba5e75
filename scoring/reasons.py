"""Reasons: a score's largest feature contributions, in words.

Reasons are stored with the score as ``{"code", "text", "text_en", "weight"}``: the text
in Chinese (the bank's working language) and in English, written once whatever the
language of the request that triggered the rescoring; pages pick the reader's with the
``reason_text`` filter.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable

import numpy as np
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.languages import english_reader

MAX_REASONS = 3
MIN_WEIGHT = 0.05  # log-odds; smaller contributions are noise, not reasons


def _wan(amount: float) -> str:
    return f"{amount / 10_000:.1f}"


def _templates(language: str = "zh-hans") -> dict[str, str]:
    """Phrase templates, translated once per batch (Chinese unless asked otherwise), with
    the features' names (``label:<feature>``) in the same language."""
    with translation.override(language):
        return {
            **{f"label:{name}": str(label) for name, label in FEATURE_LABELS.items()},
            "unknown": _("unknown"),
            "ten_thousand": _("%(amount)s ten thousand"),
            "maturity_days": _("Wealth product matures in %(days)s days"),
            "maturity_today": _("Wealth product matures today"),
            "maturity_amount": _("%(amount)s 10k CNY maturing within 30 days"),
            "no_maturity": _("No holdings maturing soon"),
            "outflow_30": _("AUM outflow of %(pct)s%% in the last 30 days"),
            "inflow_30": _("AUM inflow of %(pct)s%% in the last 30 days"),
            "outflow_90": _("AUM outflow of %(pct)s%% in the last 90 days"),
            "inflow_90": _("AUM growth of %(pct)s%% in the last 90 days"),
            "aum": _("AUM of %(amount)s 10k CNY"),
            "tier_private": _("Private banking customer"),
            "tier_wealth": _("Wealth tier customer"),
            "tier_base": _("Base tier customer"),
            "tier_long_tail": _("Long-tail customer"),
            "ai_wealth": _("Asked the AI bot about wealth products"),
            "ai_maturity": _("Asked the AI bot about a maturity and reinvestment"),
            "ai_pension": _("Asked the AI bot about pension products"),
            "ai_human": _("Asked the AI bot for a human advisor"),
            "ai_refused": _("Told the AI bot to stop marketing: respect the contact preference"),
            "ai_rounds": _("%(n)s rounds of conversation with the AI bot in the last 90 days"),
            "no_ai": _("No AI-bot conversation recently"),
            "prev_converted": _("The previous contact converted"),
            "prev_not_converted": _("The previous contact did not convert"),
            "prev_none": _("Never contacted before"),
            "assessment_expired": _("Risk assessment missing or expired"),
            "assessment_valid": _("Risk assessment valid"),
            "assessment_age": _("Risk assessment done %(days)s days ago"),
            "fatigue": _("%(n)s contacts in the last 30 days"),
            "days_since": _("Last contacted %(days)s days ago"),
            "never_contacted": _("No contact on record"),
            "generic": _("%(label)s: %(value)s"),
        }


def phrase(code: str, value, templates: dict[str, str], vocab: list[str] | None = None) -> str:
    """The phrase for feature or rule ``code`` at ``value``, in the language of ``templates``."""
    return phrase_render(code, phrase_input(code, value, vocab), templates)


def phrase_input(code: str, value, vocab: list[str] | None = None) -> tuple:
    """What of ``value`` the phrase of ``code`` shows, as a small tuple: two values with the
    same input have the same phrase in every language (``reasons_json_rows`` phrases each
    distinct input once). ``("missing",)`` when there is no value."""
    missing = value is None or (isinstance(value, float) and math.isnan(value))
    if vocab and not missing and isinstance(value, int | float):
        value = vocab[int(value)] if 0 <= int(value) < len(vocab) else None
        missing = value is None
    if code in ("tier", "tier_wealth", "tier_private"):
        # a missing tier reads as its own value ("None" / "nan"), as it always has
        return ("tier", code.removeprefix("tier_") if code != "tier" else value)
    if code in ("previous_outcome", "previous_converted"):
        return ("value", "converted" if code == "previous_converted" else value)
    if missing:
        return ("missing",)
    if code == "days_to_next_maturity":
        return ("days", max(int(value), 0))
    if code in ("maturing_30d_amount", "maturity_30d"):
        return ("wan", _wan(float(value))) if value else ("missing",)
    if code in ("aum_change_30d", "aum_outflow_30d", "aum_change_90d", "aum_growth_90d"):
        return ("pct", float(value) < 0, round(abs(float(value)) * 100))
    if code == "aum":
        return ("wan", _wan(float(value)))
    if code in ("ai_not_interested", "ai_intent_wealth", "ai_intent_maturity", "ai_intent_pension", "ai_asked_human"):
        return ("flag", float(value) >= 1)
    if code == "assessment_expired":
        return ("flag", float(value) >= 1)
    if code == "ai_rounds":
        return ("n", int(value)) if value else ("missing",)
    if code in ("assessment_age_days", "contacts_30d", "contact_fatigue", "days_since_last_contact"):
        return ("n", int(value))
    if isinstance(value, float):
        return ("shown", f"{value:g}") if abs(value) < 1e6 else ("wan", _wan(value))
    return ("shown", str(value))


def phrase_render(code: str, given: tuple, templates: dict[str, str]) -> str:
    """The phrase of ``code`` for ``phrase_input``'s tuple, in the language of ``templates``."""
    t = templates
    kind, value = given[0], given[-1]
    missing = kind == "missing"
    if code in ("days_to_next_maturity",):
        if missing:
            return t["no_maturity"]
        return t["maturity_today"] if value <= 0 else t["maturity_days"] % {"days": value}
    if code in ("maturing_30d_amount", "maturity_30d"):
        return t["no_maturity"] if missing else t["maturity_amount"] % {"amount": value}
    for codes, label, down, up in (
        (("aum_change_30d", "aum_outflow_30d"), "label:aum_change_30d", "outflow_30", "inflow_30"),
        (("aum_change_90d", "aum_growth_90d"), "label:aum_change_90d", "outflow_90", "inflow_90"),
    ):
        if code in codes:
            if missing:
                return t["generic"] % {"label": t[label], "value": t["unknown"]}
            return (t[down] if given[1] else t[up]) % {"pct": value}
    if code == "aum":
        if missing:
            return t["generic"] % {"label": t["label:aum"], "value": t["unknown"]}
        return t["aum"] % {"amount": value}
    if code in ("tier", "tier_wealth", "tier_private"):
        return t.get(f"tier_{value}", t["generic"] % {"label": t["label:tier"], "value": value})
    if code == "ai_not_interested":
        return t["ai_refused"] if not missing and value else t["no_ai"]
    if code in ("ai_intent_wealth", "ai_intent_maturity", "ai_intent_pension", "ai_asked_human"):
        key = {
            "ai_intent_wealth": "ai_wealth",
            "ai_intent_maturity": "ai_maturity",
            "ai_intent_pension": "ai_pension",
            "ai_asked_human": "ai_human",
        }[code]
        return t[key] if not missing and value else t["no_ai"]
    if code == "ai_rounds":
        return t["no_ai"] if missing else t["ai_rounds"] % {"n": value}
    if code in ("previous_outcome", "previous_converted"):
        return t.get(f"prev_{value}", t["prev_none"])
    if code == "assessment_expired":
        return t["assessment_expired"] if missing or value else t["assessment_valid"]
    if code == "assessment_age_days":
        return t["assessment_expired"] if missing else t["assessment_age"] % {"days": value}
    if code in ("contacts_30d", "contact_fatigue"):
        return t["fatigue"] % {"n": 0 if missing else value}
    if code == "days_since_last_contact":
        return t["never_contacted"] if missing else t["days_since"] % {"days": value}
    label = t.get(f"label:{code}", code)  # an imported column keeps its own name
    if missing:
        shown = t["unknown"]
    elif kind == "wan":
        shown = t["ten_thousand"] % {"amount": value}
    else:
        shown = value
    return t["generic"] % {"label": label, "value": shown}


def top_reasons(
    contributions: np.ndarray,
    items: list[tuple[str, str, str]],
    values_of,
    templates: dict[str, str],
    vocabs: dict[str, list[str]] | None = None,
    templates_en: dict[str, str] | None = None,
) -> list[dict]:
    """The ``MAX_REASONS`` largest contributions of one row, as reason dicts.

    ``items[j]`` is ``(code, phrase code, feature)`` of column j; ``values_of(feature)``
    gives the row's value of a feature (for the text).
    """
    # stable: ties keep column order, the same in ``reasons_json_rows``
    order = np.argsort(-np.abs(contributions), kind="stable")[:MAX_REASONS]
    out = []
    for j in order:
        w = float(contributions[j])
        if abs(w) < MIN_WEIGHT:
            break
        code, phrase_code, feature = items[j]
        vocab = (vocabs or {}).get(feature)
        reason = {"code": code, "text": phrase(phrase_code, values_of(feature), templates, vocab)}
        if templates_en is not None:
            reason["text_en"] = phrase(phrase_code, values_of(feature), templates_en, vocab)
        reason["weight"] = round(w, 3)
        out.append(reason)
    return out


def reasons_json(reasons: list[dict]) -> str:
    return json.dumps(reasons, ensure_ascii=False)


def reasons_json_rows(
    contributions: np.ndarray,
    X: np.ndarray,
    items: list[tuple[str, str, str]],
    index: dict[str, int],
    templates: dict[str, str],
    vocabs: dict[str, list[str]] | None,
    templates_en: dict[str, str],
) -> list[str]:
    """``reasons_json(top_reasons(...))`` of every row of ``X`` at once, byte for byte.

    Full rescoring wrote reasons row by row: an argsort, up to six phrases and a
    ``json.dumps`` per customer were a quarter of its time. Here the top contributions of
    the whole matrix are picked by NumPy, each distinct (column, ``phrase_input``) pair is
    phrased and encoded once (a batch holds few: amounts in 10k with one decimal, whole
    percents and day counts), and a row's JSON is a join of those fragments with its weights.
    """
    n = contributions.shape[0]
    if n == 0:
        return []
    top = min(MAX_REASONS, contributions.shape[1])
    order = np.argsort(-np.abs(contributions), axis=1, kind="stable")[:, :top]
    weights = np.take_along_axis(contributions, order, axis=1)
    # the feature each column's phrase reads (-1: none, the value is None)
    feature_of = np.array([index.get(feature, -1) for _c, _p, feature in items] or [-1], dtype=np.int64)
    columns = feature_of[order]
    values = X[np.arange(n)[:, None], np.where(columns < 0, 0, columns)]
    fragments: dict[tuple, str] = {}
    out = []
    for ws, js, fs, vs in zip(weights.tolist(), order.tolist(), columns.tolist(), values.tolist(), strict=True):
        parts = []
        for w, j, f, v in zip(ws, js, fs, vs, strict=True):
            if abs(w) < MIN_WEIGHT:
                break
            code, phrase_code, feature = items[j]
            vocab = (vocabs or {}).get(feature)
            given = phrase_input(phrase_code, None if f < 0 else v, vocab)
            key = (j, given)
            head = fragments.get(key)
            if head is None:
                head = json.dumps(
                    {
                        "code": code,
                        "text": phrase_render(phrase_code, given, templates),
                        "text_en": phrase_render(phrase_code, given, templates_en),
                    },
                    ensure_ascii=False,
                )[:-1]
                fragments[key] = head
            parts.append(f'{head}, "weight": {round(w, 3)!r}}}')
        out.append("[" + ", ".join(parts) + "]")
    return out


FEATURE_LABELS = {
    "age": gettext_lazy("Age"),
    "gender": gettext_lazy("Gender"),
    "city": gettext_lazy("City"),
    "occupation": gettext_lazy("Occupation"),
    "education": gettext_lazy("Education"),
    "marital_status": gettext_lazy("Marital status"),
    "tier": gettext_lazy("Tier"),
    "lifecycle_stage": gettext_lazy("Lifecycle stage"),
    "aum": gettext_lazy("AUM"),
    "aum_change_30d": gettext_lazy("AUM change, 30 days"),
    "aum_change_90d": gettext_lazy("AUM change, 90 days"),
    "wealth_share": gettext_lazy("Share in wealth products and funds"),
    "deposit_share": gettext_lazy("Share in deposits"),
    "holdings_count": gettext_lazy("Products held"),
    "maturing_30d_amount": gettext_lazy("Amount maturing within 30 days"),
    "days_to_next_maturity": gettext_lazy("Days to the next maturity"),
    "risk_level": gettext_lazy("Risk level"),
    "assessment_age_days": gettext_lazy("Days since the risk assessment"),
    "assessment_expired": gettext_lazy("Risk assessment expired"),
    "tag_count": gettext_lazy("Tags"),
    "contacts_30d": gettext_lazy("Contacts, 30 days"),
    "contacts_90d": gettext_lazy("Contacts, 90 days"),
    "days_since_last_contact": gettext_lazy("Days since the last contact"),
    "previous_outcome": gettext_lazy("Previous outcome"),
    "ai_rounds": gettext_lazy("AI-bot conversation rounds"),
    "ai_intent_wealth": gettext_lazy("AI bot: asked about wealth products"),
    "ai_intent_maturity": gettext_lazy("AI bot: asked about a maturity"),
    "ai_intent_pension": gettext_lazy("AI bot: asked about pensions"),
    "ai_asked_human": gettext_lazy("AI bot: asked for a human advisor"),
    "ai_not_interested": gettext_lazy("AI bot: asked for no more sales"),
}


def feature_label(name: str) -> str:
    """A feature's name for people (imported columns keep their own names)."""
    return str(FEATURE_LABELS.get(name, name))


def reasons_reader() -> Callable[[list], list | None]:
    """For rows stored before reasons were also written in English: a function giving a
    row's reasons with ``text_en`` read back from the Chinese ``text`` where it can be
    (None when it adds nothing, so an unchanged row is not written)."""
    english_of = english_reader(_templates("en").values())

    def with_english(reasons: list) -> list | None:
        changed = False
        out = []
        for reason in reasons or []:
            if isinstance(reason, dict) and reason.get("text") and not reason.get("text_en"):
                text_en = english_of(reason["text"])
                if text_en:
                    reason = {**reason, "text_en": text_en}
                    changed = True
            out.append(reason)
        return out if changed else None

    return with_english
