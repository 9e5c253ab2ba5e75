"""Suitability (适当性): which products a customer may legally be offered, and why not.

Rules (see ../shared/DOMAIN.md, "Suitability"):

- the product is on the shelf and ``today`` falls inside its sale window;
- the customer has a risk assessment that is not expired (365 days, configurable);
- a first purchase needs an assessment the customer completed themselves;
- product risk R must not exceed the customer's tolerance C;
- the amount (or, with no amount, the customer's AUM) reaches the product's minimum;
- private placements (私募) only for qualified investors (AUM threshold, configurable);
- age 65 or over with an R4/R5 product: allowed, but needs a second-level review and an
  extra risk explanation (适当性管理办法, in force 2026-02-01).

Reasons are translated, user-facing sentences.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.templatetags.formatting import cny

from .models import Customer, Holding, Product, ProductType, RiskAssessment

SECOND_REVIEW_AGE = 65
SECOND_REVIEW_MIN_RISK = 4


@dataclass(frozen=True)
class SuitabilityVerdict:
    allowed: bool
    reasons: list[str] = field(default_factory=list)
    needs_second_review: bool = False


@dataclass(frozen=True)
class _CustomerFacts:
    """What the rules need to know about the customer, fetched once per customer."""

    level: int | None
    assessed_at: dt.datetime | None
    completed_by_customer: bool
    first_purchase: bool
    aum: Decimal
    age: int | None


def _facts(customer: Customer, today: dt.date) -> _CustomerFacts:
    assessment = (
        RiskAssessment.objects.filter(customer=customer)
        .only("level", "assessed_at", "completed_by_customer")
        .order_by("-assessed_at", "-id")
        .first()
    )
    if assessment is not None:
        level, assessed_at, completed = assessment.level, assessment.assessed_at, assessment.completed_by_customer
    else:
        # Bulk-loaded customers may carry only the denormalised current level.
        level, assessed_at, completed = customer.risk_level, customer.risk_assessed_at, True
    # A first purchase is the customer's first investment product (deposits do not count).
    first_purchase = not Holding.objects.filter(customer=customer).exclude(product__type=ProductType.DEPOSIT).exists()
    age = None
    if customer.birth_date:
        b = customer.birth_date
        age = today.year - b.year - ((today.month, today.day) < (b.month, b.day))
    return _CustomerFacts(
        level=level,
        assessed_at=assessed_at,
        completed_by_customer=completed,
        first_purchase=first_purchase,
        aum=customer.aum or Decimal("0"),
        age=age,
    )


def _verdict(*, facts: _CustomerFacts, product: Product, amount: Decimal | None, today: dt.date) -> SuitabilityVerdict:
    reasons: list[str] = []
    allowed = True
    needs_second_review = False

    if not product.on_shelf:
        allowed = False
        reasons.append(_("The product is not on the shelf."))
    if product.sale_start and today < product.sale_start:
        allowed = False
        reasons.append(
            _("The sale window has not opened yet (opens %(date)s).") % {"date": product.sale_start.isoformat()}
        )
    if product.sale_end and today > product.sale_end:
        allowed = False
        reasons.append(_("The sale window closed on %(date)s.") % {"date": product.sale_end.isoformat()})

    if facts.level is None or facts.assessed_at is None:
        allowed = False
        reasons.append(_("The customer has no risk assessment on record."))
    else:
        valid_days = settings.WORKBENCH_RISK_ASSESSMENT_VALID_DAYS
        expires = timezone.localtime(facts.assessed_at).date() + dt.timedelta(days=valid_days)
        if expires <= today:
            allowed = False
            reasons.append(
                _("The risk assessment expired on %(date)s; the customer must be reassessed.")
                % {"date": expires.isoformat()}
            )
        if facts.first_purchase and not facts.completed_by_customer:
            allowed = False
            reasons.append(
                _(
                    "A first purchase needs a risk assessment completed by the customer in person; "
                    "the current one was not."
                )
            )
        if product.risk_level > facts.level:
            allowed = False
            reasons.append(
                _("Product risk R%(product)s is above the customer's risk tolerance C%(customer)s.")
                % {"product": product.risk_level, "customer": facts.level}
            )

    min_amount = product.min_amount or Decimal("0")
    if amount is not None:
        if amount <= 0:
            allowed = False
            reasons.append(_("The amount must be positive."))
        elif amount < min_amount:
            allowed = False
            reasons.append(
                _("The amount %(amount)s is below the minimum purchase of %(min)s.")
                % {"amount": cny(amount), "min": cny(min_amount)}
            )
    elif facts.aum < min_amount:
        allowed = False
        reasons.append(
            _("The customer's assets (%(aum)s) are below the minimum purchase of %(min)s.")
            % {"aum": cny(facts.aum), "min": cny(min_amount)}
        )

    if product.is_private:
        qualified_min = Decimal(settings.WORKBENCH_PRIVATE_QUALIFIED_AUM_MIN)
        if facts.aum < qualified_min:
            allowed = False
            reasons.append(
                _("Private placements are only for qualified investors with at least %(min)s of financial assets.")
                % {"min": cny(qualified_min, 0)}
            )
        elif allowed:
            reasons.append(
                _("Private placement: the customer has a cooling-off period of at least %(hours)s hours after signing.")
                % {"hours": settings.WORKBENCH_PRIVATE_COOLING_OFF_HOURS}
            )

    if facts.age is not None and facts.age >= SECOND_REVIEW_AGE and product.risk_level >= SECOND_REVIEW_MIN_RISK:
        needs_second_review = True
        reasons.append(
            _(
                "The customer is %(age)s: an R%(risk)s product needs a second-level review "
                "and an extra risk explanation."
            )
            % {"age": facts.age, "risk": product.risk_level}
        )

    return SuitabilityVerdict(allowed=allowed, reasons=reasons, needs_second_review=needs_second_review)


def product_suitability(
    *, customer: Customer, product: Product, amount: Decimal | None = None, today: dt.date | None = None
) -> SuitabilityVerdict:
    """May ``product`` be offered to ``customer`` (for ``amount``) on ``today``, and why not."""
    today = today or timezone.localdate()
    return _verdict(facts=_facts(customer, today), product=product, amount=amount, today=today)


def product_suitability_stored(
    *, customer: Customer, product: Product, amount: Decimal | None = None, today: dt.date | None = None
) -> dict:
    """The verdict as a referral or a call stores it: ``allowed``, ``needs_second_review``
    and the reasons in the bank's working language and in English (``reasons`` and
    ``reasons_en``), so whoever reads it later reads it in their language."""
    today = today or timezone.localdate()
    facts = _facts(customer, today)
    worded = {}
    for language in (settings.LANGUAGE_CODE, "en"):
        with translation.override(language):
            verdict = _verdict(facts=facts, product=product, amount=amount, today=today)
            worded[language] = [str(r) for r in verdict.reasons]
    return {
        "allowed": bool(verdict.allowed),
        "needs_second_review": bool(verdict.needs_second_review),
        "reasons": worded[settings.LANGUAGE_CODE],
        "reasons_en": worded["en"],
    }


def suitability_require_sale(
    *,
    customer: Customer,
    product: Product,
    amount: Decimal | None = None,
    second_review: bool = False,
    today: dt.date | None = None,
) -> SuitabilityVerdict:
    """The one rule for every path that records a sale: a call won, a referral converted,
    in the pages and the API alike. The product must be suitable (R ≤ C, a valid risk
    assessment, the minimum amount, ...), and a customer of 65 or over buying an R4/R5
    product needs the seller to confirm the second-level review and the extra risk
    explanation (``second_review``). Raises ValidationError (code ``unsuitable`` or
    ``second_review``) with the reasons in the user's language; returns the verdict."""
    verdict = product_suitability(customer=customer, product=product, amount=amount, today=today)
    if not verdict.allowed:
        raise ValidationError(
            _("This sale cannot be pursued: %(reasons)s") % {"reasons": "；".join(str(r) for r in verdict.reasons)},
            code="unsuitable",
        )
    if verdict.needs_second_review and not second_review:
        raise ValidationError(
            _(
                "The customer is 65 or over and the product is R%(risk)s: confirm that the second-level review "
                "was done and the extra risk explanation was given."
            )
            % {"risk": product.risk_level},
            code="second_review",
        )
    return verdict


def suitable_products(*, customer: Customer, today: dt.date | None = None) -> list[tuple[Product, SuitabilityVerdict]]:
    """Every on-shelf product with its verdict for ``customer``: allowed ones first.

    Filter on ``verdict.allowed`` for what may be offered; the others carry the reasons
    they are excluded. Three queries whatever the number of products.
    """
    today = today or timezone.localdate()
    facts = _facts(customer, today)
    products = Product.objects.filter(on_shelf=True).order_by("risk_level", "code")
    verdicts = [(p, _verdict(facts=facts, product=p, amount=None, today=today)) for p in products]
    verdicts.sort(key=lambda pv: (not pv[1].allowed, pv[0].risk_level, pv[0].code))
    return verdicts
