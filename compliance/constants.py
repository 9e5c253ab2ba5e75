"""Choices shared by the compliance models, the scanner and the default lexicon, and the
roles the access rules (``compliance/access.py`` and the QuerySets) name."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from org.roles import Role

# Compliance officers and administrators read everything compliance holds (the review
# queue, the lexicon, every script and flag); only officers act on it.
OVERSEER_ROLES = frozenset({Role.COMPLIANCE, Role.ADMIN})
# Who may propose and revise scripts (branch staff use the approved ones only).
# Campaign managers write the message templates of their campaigns (scripts too).
AUTHOR_ROLES = frozenset({Role.ADVISOR, Role.TEAM_LEAD, Role.COMPLIANCE, Role.ADMIN, Role.CAMPAIGN_MANAGER})
# The Django group of senior officers a flag can be escalated to (created by migration 0002).
SENIOR_GROUP = "compliance_senior"


class Category(models.TextChoices):
    GUARANTEE = "guarantee", _("Guarantee of principal or return")
    RETURN_FORECAST = "return_forecast", _("Return forecast or benchmark as return")
    DEPOSIT_CONFUSION = "deposit_confusion", _("Confusion with deposits")
    SUPERLATIVE = "superlative", _("Absolute or superlative claim")
    TIME_PRESSURE = "time_pressure", _("Time pressure")
    INDUCEMENT = "inducement", _("Gifts, lotteries or kickbacks")
    BUNDLING = "bundling", _("Bundling")
    DISPARAGING = "disparaging", _("Disparaging other institutions")
    FREQUENT_TRADING = "frequent_trading", _("Inducing frequent trading")
    SUITABILITY_EVASION = "suitability_evasion", _("Suitability evasion")
    CREDENTIALS = "credentials", _("Asking for passwords or operating for the customer")
    OFF_CHANNEL = "off_channel", _("Off-channel communication")
    ALLOW = "allow", _("Benign compound (cancels hits inside it)")


class Severity(models.TextChoices):
    HIGH = "high", _("High")
    MEDIUM = "medium", _("Medium")
    LOW = "low", _("Low")


SEVERITY_ORDER = {Severity.HIGH: 0, Severity.MEDIUM: 1, Severity.LOW: 2}


class Language(models.TextChoices):
    ZH = "zh", pgettext_lazy("lexicon language", "Chinese")
    EN = "en", pgettext_lazy("lexicon language", "English")


class Disclosure(models.TextChoices):
    RISK_STATEMENT = "risk_statement", _("Risk statement for wealth products missing")
    PAST_PERFORMANCE = "past_performance_disclaimer", _("Past-performance disclaimer missing")
    FUND_DISCLAIMER = "fund_disclaimer", _("Fund past-performance disclaimer missing")
    FUND_RISK = "fund_risk_statement", _("Fund risk statement missing")
    RISK_LEVEL_MISSING = "risk_level_missing", _("Product risk level not stated")
    RISK_LEVEL_MISMATCH = "risk_level_mismatch", _("Stated risk level differs from the product master data")
