"""Models of lead scoring: the current score of every customer, the outcomes it learns
from, trained model versions, scoring settings and rescoring runs."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.access import RestrictedQuerySet
from core.languages import in_reader_language
from customers.models import Customer
from leads.models import Grade

from .access import can_manage_scoring

# The bar below which scoring uses the transparent rules instead of a trained model
# (the same bar Dynamics 365 predictive lead scoring uses): 40 of each class.
MIN_CLASS_ROWS = 40

DEFAULT_HIGH_CUTOFF = 30.0
DEFAULT_MID_CUTOFF = 15.0


class TrainedModel(models.Model):
    """What every trained model keeps: its artifact, the features it reads, its held-out
    figures, who trained it and when, whether it is the one in use, and a note in both
    languages (``core.languages``)."""

    version = models.CharField(_("version"), max_length=64, unique=True)
    artifact = models.BinaryField(_("artifact"))
    features = models.JSONField(_("features"), default=list)
    metrics = models.JSONField(_("metrics"), default=dict)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    trained_at = models.DateTimeField(_("trained at"), auto_now_add=True)
    trained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("trained by"),
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    note_en = models.CharField(_("note in English"), max_length=300, blank=True)

    class Meta:
        abstract = True
        ordering = ["-trained_at", "-id"]

    def __str__(self) -> str:
        return self.version

    @property
    def note_text(self) -> str:
        return in_reader_language(self.note, self.note_en)


class ModelVersion(TrainedModel):
    """One trained lead model. ``metrics``: auc, lift_top10, brier, rows, positives,
    calibration, lift, score_bins, importance..."""

    is_active = models.BooleanField(_("active"), default=False)
    activated_at = models.DateTimeField(_("activated at"), null=True, blank=True)

    class Meta(TrainedModel.Meta):
        verbose_name = _("model version")
        verbose_name_plural = _("model versions")
        constraints = [
            models.UniqueConstraint(fields=["is_active"], condition=models.Q(is_active=True), name="scoring_one_active")
        ]


def default_rules() -> dict:
    """Cold-start rules: log-odds weights of plain, explainable conditions."""
    return {
        "intercept": -2.6,
        "weights": {
            "tier_wealth": 0.6,
            "tier_private": 0.9,
            "aum_growth_90d": 0.4,
            "aum_outflow_30d": 0.5,
            "maturity_30d": 0.9,
            "ai_intent_wealth": 0.7,
            "ai_intent_maturity": 0.6,
            "ai_intent_pension": 0.6,
            "ai_asked_human": 1.0,
            "ai_not_interested": -2.5,
            "previous_converted": 0.5,
            "assessment_expired": -0.3,
            "contact_fatigue": -0.4,
        },
    }


class ScoringSettings(models.Model):
    """The single row of scoring settings team leads edit (grade cutoffs, cold-start rules)."""

    high_cutoff = models.FloatField(_("high grade from score"), default=DEFAULT_HIGH_CUTOFF)
    mid_cutoff = models.FloatField(_("mid grade from score"), default=DEFAULT_MID_CUTOFF)
    rules = models.JSONField(_("cold-start rules"), default=default_rules)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("scoring settings")
        verbose_name_plural = _("scoring settings")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(mid_cutoff__gte=0)
                & models.Q(high_cutoff__lte=100)
                & models.Q(mid_cutoff__lt=models.F("high_cutoff")),
                name="scoring_cutoffs_ordered",
            )
        ]

    def __str__(self) -> str:
        return f"high ≥ {self.high_cutoff}, mid ≥ {self.mid_cutoff}"


class CustomerScoreQuerySet(RestrictedQuerySet):
    """A score is seen by whoever may see its customer (``scoring.access.can_view_score``)."""

    ACTIONS = ("view",)

    def _restrict(self, user, action: str):
        return self.filter(customer_id__in=Customer.objects.restrict(user, "view").values("pk"))


class CustomerScore(models.Model):
    """The current propensity score of a customer: written in bulk by rescoring.

    ``reasons`` is a list of ``{"code": ..., "text": ..., "weight": ...}`` with text in
    Chinese (the top feature contributions in words); ``method`` says whether a trained
    model or the cold-start rules produced it.
    """

    customer = models.OneToOneField(
        "customers.Customer", on_delete=models.CASCADE, related_name="score", primary_key=True
    )
    score = models.FloatField(_("score"))
    grade = models.CharField(_("grade"), max_length=8, choices=Grade.choices)
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    model_version = models.CharField(_("model version"), max_length=64, blank=True)
    method = models.CharField(_("method"), max_length=8, choices=[("model", _("Model")), ("rules", _("Rules"))])
    scored_at = models.DateTimeField(_("scored at"))

    objects = CustomerScoreQuerySet.as_manager()

    class Meta:
        verbose_name = _("customer score")
        verbose_name_plural = _("customer scores")
        indexes = [models.Index(fields=["grade", "-score"], name="score_grade_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.score:.1f} {self.grade}"


# Bins of the stored score distribution: bin i holds scores in [i / 10, (i + 1) / 10), the
# last one a score of 100; grade counts are exact for cutoffs in steps of 0.1 (the page's
# are 0.5).
SCORE_BINS_PER_POINT = 10
SCORE_BINS = 100 * SCORE_BINS_PER_POINT + 1


class ScoreDistribution(models.Model):
    """How the current scores spread over 0–100, stored once by each full rescoring.

    The model page counts customers per grade for any cutoffs from these 1,001 numbers
    instead of scanning every score on each view (300–660 ms at a million customers);
    it says when they were counted. One row, replaced by each run.
    """

    counts = models.JSONField(_("customers per score bin"), default=list)
    total = models.PositiveIntegerField(_("customers scored"), default=0)
    computed_at = models.DateTimeField(_("computed at"))
    job = models.ForeignKey(
        "core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("job")
    )

    class Meta:
        verbose_name = _("score distribution")
        verbose_name_plural = _("score distributions")

    def __str__(self) -> str:
        return f"{self.total} scores at {self.computed_at:%Y-%m-%d %H:%M}"


class OutcomeSource(models.TextChoices):
    CALL = "call", _("Call log")
    IMPORT = "import", _("Historical import")
    DEMO = "demo", _("Demo data")
    CAMPAIGN = "campaign", _("Campaign conversion")


class OutcomeQuerySet(RestrictedQuerySet):
    """An outcome is seen by whoever may see its customer; an anonymous imported row by
    team leads and administrators (``scoring.access.can_view_outcome``)."""

    ACTIONS = ("view",)

    def _restrict(self, user, action: str):
        visible = models.Q(customer_id__in=Customer.objects.restrict(user, "view").values("pk"))
        if can_manage_scoring(user):
            visible |= models.Q(customer__isnull=True)
        return self.filter(visible)


class Outcome(models.Model):
    """One past contact and what came of it, with the features as they were then.

    ``features`` is the point-in-time snapshot the model trains on; fields known only
    after the contact (call duration, ...) never go in it.
    """

    customer = models.ForeignKey(
        "customers.Customer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="outcomes",
        verbose_name=_("customer"),
        db_index=False,  # covered by outcome_cust_idx
    )
    contacted_at = models.DateTimeField(_("contacted at"), null=True, blank=True)
    channel = models.CharField(_("channel"), max_length=16, blank=True)
    product = models.ForeignKey(
        "customers.Product", null=True, blank=True, on_delete=models.SET_NULL, related_name="outcomes"
    )
    converted = models.BooleanField(_("converted"))
    amount = models.DecimalField(_("amount"), max_digits=18, decimal_places=2, null=True, blank=True)
    features = models.JSONField(_("features at contact time"), default=dict)
    source = models.CharField(_("source"), max_length=8, choices=OutcomeSource.choices, default=OutcomeSource.CALL)
    external_key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    # The campaign enrolment the outcome is attributed to (set by campaigns, which sits
    # above scoring: a plain id, not a foreign key) and its arm ("treatment"/"control").
    campaign_id = models.PositiveBigIntegerField(_("campaign"), null=True, blank=True)
    arm = models.CharField(_("campaign arm"), max_length=16, blank=True, default="", db_default="")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = OutcomeQuerySet.as_manager()

    class Meta:
        verbose_name = _("outcome")
        verbose_name_plural = _("outcomes")
        ordering = ["-contacted_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "-contacted_at"], name="outcome_cust_idx"),
            models.Index(fields=["campaign_id", "arm"], name="outcome_campaign_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.contacted_at} {'+' if self.converted else '-'}"


# --- the uplift model (targeting by uplift) -------------------------------------------------


class UpliftModelVersion(TrainedModel):
    """One trained uplift model (``scoring.uplift``): its artifact and its held-out figures.

    ``metrics`` holds the Qini coefficient with its bootstrap interval, the uplift at the
    top decile, the Qini curve and the sizes; ``job`` is the training job that wrote it, so
    a job run again after its worker died finds its version instead of training twice.
    The newest version is the one in use (``is_active``) when its Qini interval lies above
    0; a version that finds no uplift is kept, with a note, and never used.
    """

    is_active = models.BooleanField(_("in use"), default=False)
    job = models.OneToOneField(
        "core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("job")
    )
    scored_at = models.DateTimeField(_("customers scored at"), null=True, blank=True)
    scored_customers = models.PositiveIntegerField(_("customers scored"), default=0)

    class Meta(TrainedModel.Meta):
        verbose_name = _("uplift model version")
        verbose_name_plural = _("uplift model versions")
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=models.Q(is_active=True), name="scoring_one_active_uplift"
            )
        ]


class CustomerUplift(models.Model):
    """A customer's predicted uplift under the uplift model in use: the chance to convert
    when contacted, when not, and the difference. Written in bulk after training; read by
    segments that keep their most persuadable members."""

    customer = models.OneToOneField(
        "customers.Customer", on_delete=models.CASCADE, related_name="uplift", primary_key=True
    )
    uplift = models.FloatField(_("predicted uplift"))
    p_treated = models.FloatField(_("predicted conversion if contacted"))
    p_control = models.FloatField(_("predicted conversion if not contacted"))
    version = models.ForeignKey(
        UpliftModelVersion, on_delete=models.CASCADE, related_name="+", verbose_name=_("uplift model version")
    )
    scored_at = models.DateTimeField(_("scored at"))

    class Meta:
        verbose_name = _("customer uplift")
        verbose_name_plural = _("customer uplifts")
        indexes = [models.Index(fields=["-uplift"], name="customer_uplift_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.uplift:+.3f}"
