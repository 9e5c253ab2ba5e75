import django_tables2 as tables
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.htmx import url_for_ids
from org.roles import staff_name

from .constants import Category, Language, Severity
from .models import CommSource, Flag, FlagKind, FlagStatus, LexiconRule, ScriptVersion
from .rule_language import is_concept_expression

_SEVERITY_BADGE = {"high": "danger", "medium": "warning", "low": "secondary"}


def severity_badge(value: str, label) -> str:
    return format_html('<span class="badge text-bg-{}">{}</span>', _SEVERITY_BADGE.get(value, "light"), label)


class LibraryTable(tables.Table):
    title = tables.Column(verbose_name=_("Script"), accessor="script__title", order_by=("script__title",))
    product = tables.Column(
        verbose_name=_("Product"), accessor="script__product", empty_values=(), order_by=("script__product__name",)
    )
    purpose = tables.Column(verbose_name=pgettext_lazy("script", "Purpose"), accessor="script__purpose")
    number = tables.Column(verbose_name=_("Version"))
    decided_at = tables.DateTimeColumn(verbose_name=_("Approved at"), format="Y-m-d")
    body = tables.Column(verbose_name=_("Text"), orderable=False)

    htmx_target = "library-table"

    class Meta:
        empty_text = _("No scripts match. Write one with New script; advisors can use it once compliance approves it.")
        model = ScriptVersion
        fields = ("title", "product", "purpose", "number", "decided_at", "body")
        attrs = {"class": "table table-sm", "data-testid": "library-table"}

    def render_title(self, record, value):
        url = reverse("compliance:script_detail", args=[record.script_id])
        return format_html('<a href="{}">{}</a>', url, value)

    def render_product(self, record):
        s = record.script
        return s.product.name if s.product_id else s.get_product_type_display()

    def render_purpose(self, record):
        return record.script.get_purpose_display()

    def render_number(self, value):
        return f"v{value}"

    def render_body(self, value):
        return format_html('<div class="wb-script-body small">{}</div>', value)


class PendingScriptTable(tables.Table):
    title = tables.Column(verbose_name=_("Script"), accessor="script__title", order_by=("script__title",))
    number = tables.Column(verbose_name=_("Version"))
    author = tables.Column(verbose_name=_("Author"), order_by=("author__username",))
    submitted_at = tables.DateTimeColumn(verbose_name=_("Submitted"), format="Y-m-d H:i")
    n_high = tables.Column(verbose_name=_("High"))
    n_medium = tables.Column(verbose_name=_("Medium"))

    htmx_target = "pending-table"

    class Meta:
        empty_text = _("No script is waiting for review. Versions that authors submit appear here for review.")
        model = ScriptVersion
        fields = ("title", "number", "author", "submitted_at", "n_high", "n_medium")
        attrs = {"class": "table table-sm", "data-testid": "pending-table"}

    def render_title(self, record, value):
        return format_html('<a href="{}">{}</a>', reverse("compliance:version_review", args=[record.pk]), value)

    def render_number(self, value):
        return f"v{value}"

    def render_author(self, value):
        return staff_name(value)

    def render_n_high(self, value):
        return severity_badge("high", value) if value else "0"

    def render_n_medium(self, value):
        return severity_badge("medium", value) if value else "0"


class FlagTable(tables.Table):
    select = tables.TemplateColumn(
        '<input class="form-check-input" type="checkbox" name="flag_ids" value="{{ record.pk }}" form="bulk-form"'
        ' aria-label="#{{ record.pk }}"'
        '{% if record.status == "closed" or record.status == "escalated" %} disabled{% endif %}>',
        verbose_name="",
        orderable=False,
    )
    id = tables.Column(verbose_name="#")
    created_at = tables.DateTimeColumn(verbose_name=_("Flagged"), format="Y-m-d H:i")  # flags outlive a year
    severity = tables.Column(verbose_name=_("Severity"))
    category = tables.Column(verbose_name=_("Category"))
    match = tables.Column(verbose_name=_("Hit"))
    source = tables.Column(verbose_name=_("Source"))
    advisor = tables.Column(verbose_name=_("Advisor"), order_by=("advisor__username",))
    status = tables.Column(verbose_name=_("Status"))
    assignee = tables.Column(verbose_name=_("Reviewer"), order_by=("assignee__username",))

    htmx_target = "flag-table"

    class Meta:
        empty_text = _(
            "No flags match. Flags appear when call notes or messages hit the lexicon; clear a filter for closed ones."
        )
        model = Flag
        fields = (
            "select",
            "id",
            "created_at",
            "severity",
            "category",
            "match",
            "source",
            "advisor",
            "status",
            "assignee",
        )
        attrs = {"class": "table table-sm", "data-testid": "flag-table"}
        # Rows written out in the template (as the lexicon and the audit log): 50 flags ×
        # 10 columns through django-tables2's per-cell rendering were nine tenths of the
        # review queue's server time. The columns above give the headers and sorting.
        template_name = "compliance/_flag_table.html"

    @property
    def flag_rows(self) -> list[dict]:
        """The page's flags as text, for compliance/_flag_table.html: no template tag,
        filter or ``{% url %}`` per cell (each was a few Python calls × 500 cells)."""
        rows = []
        detail_url = url_for_ids("compliance:flag_detail")
        for row in self.paginated_rows:
            flag = row.record
            rows.append(
                {
                    "pk": flag.pk,
                    "url": detail_url(flag.pk),
                    "closed": flag.status in (FlagStatus.CLOSED, FlagStatus.ESCALATED),
                    "flagged": timezone.localtime(flag.created_at).strftime("%Y-%m-%d %H:%M"),
                    "severity": flag_severity_cell(flag),
                    "category": flag_category_cell(flag),
                    "match": flag.match,
                    "source": _label(CommSource, flag.source) or "—",
                    "advisor": staff_name(flag.advisor),
                    "status": _label(FlagStatus, flag.status),
                    "reviewer": staff_name(flag.assignee),
                }
            )
        return rows


def flag_severity_cell(flag: Flag) -> str:
    return severity_badge(flag.severity, _label(Severity, flag.severity)) if flag.severity else "—"


def flag_category_cell(flag: Flag) -> str:
    """The category, or for a flag without one (a QA sample, a model finding) its kind."""
    return _label(Category, flag.category) if flag.category else _label(FlagKind, flag.kind)


class MyFlagTable(tables.Table):
    occurred_at = tables.DateTimeColumn(verbose_name=_("Call time"), format="Y-m-d H:i")
    advisor = tables.Column(verbose_name=_("Advisor"), order_by=("advisor__username",))
    category = tables.Column(verbose_name=_("Category"))
    match = tables.Column(verbose_name=_("Hit"))
    outcome = tables.Column(verbose_name=pgettext_lazy("review", "Outcome"))
    outcome_comment = tables.Column(verbose_name=_("Feedback"), orderable=False, attrs={"td": {"class": "wb-wrap"}})
    closed_at = tables.DateTimeColumn(verbose_name=pgettext_lazy("date column", "Reviewed"), format="Y-m-d")

    htmx_target = "my-flag-table"

    class Meta:
        empty_text = _("No compliance feedback for you. Reviews of your calls and messages appear here.")
        model = Flag
        fields = ("occurred_at", "advisor", "category", "match", "outcome", "outcome_comment", "closed_at")
        attrs = {"class": "table table-sm", "data-testid": "my-flag-table"}

    def render_advisor(self, value):
        return staff_name(value)

    def render_category(self, record, value):
        return value if record.category else record.get_kind_display()


class LexiconTable(tables.Table):
    code = tables.Column(verbose_name=_("Code"))
    pattern = tables.Column(verbose_name=_("Phrase or pattern"), attrs={"td": {"class": "wb-wrap"}})
    severity = tables.Column(verbose_name=_("Severity"))
    hits = tables.Column(verbose_name=_("Hits"), accessor="stats__hits", default=0, attrs={"td": {"class": "text-end"}})
    precision = tables.Column(
        verbose_name=_("Precision in review"),
        accessor="stats__confirmed",
        empty_values=(),
        orderable=False,
        attrs={"td": {"class": "text-end"}},
    )
    active = tables.Column(
        verbose_name=pgettext_lazy("lexicon rule", "Active"), empty_values=(), order_by=("is_active", "active_from")
    )
    owner = tables.Column(verbose_name=_("Owner"), order_by=("owner__username",))

    htmx_target = "lexicon-table"

    class Meta:
        empty_text = _("No rule matches these filters. Clear a filter, or add a rule.")
        model = LexiconRule
        # Eight columns: the language shares the category's cell and "negation suppresses"
        # (almost always on) shows as a badge on the pattern only when it is off
        # (docs/compliance-scanner.md).
        fields = (
            "code",
            "pattern",
            "category",
            "severity",
            "hits",
            "precision",
            "active",
            "owner",
        )
        exclude = ("version", "language", "negation_suppresses")  # the version: on the rule's page
        attrs = {"class": "table table-sm", "data-testid": "lexicon-table"}
        # The rows are written out in the template (as the audit log and the referral
        # list do): django-tables2's per-cell rendering of 25 rules × 8 columns was most of
        # the page's server time. The columns above still give the headers and sorting.
        template_name = "compliance/_lexicon_table.html"


def _label(choices, value) -> str:
    # The enum's label, not ``get_<field>_display()``: that one builds a dict of every
    # choice, translating each label, for each cell (a third of the rows' time).
    try:
        return choices(value).label
    except ValueError:
        return value


def lexicon_category_cell(rule: LexiconRule) -> str:
    return format_html(
        '{} <span class="small text-secondary">{}</span>',
        _label(Category, rule.category),
        _label(Language, rule.language),
    )


def lexicon_severity_cell(rule: LexiconRule) -> str:
    return severity_badge(rule.severity, _label(Severity, rule.severity))


def lexicon_precision_cell(rule: LexiconRule) -> str:
    stats = getattr(rule, "stats", None) if hasattr(rule, "stats") else None
    if stats is None or stats.precision is None:
        return "—"
    reviewed = stats.confirmed + stats.dismissed
    return format_html(
        '<span title="{}">{}%</span>',
        _("%(confirmed)d confirmed of %(reviewed)d reviewed") % {"confirmed": stats.confirmed, "reviewed": reviewed},
        round(stats.precision * 100),
    )


def lexicon_pattern_cell(rule: LexiconRule) -> str:
    if rule.is_regex:
        kind = _("regular expression")
    elif is_concept_expression(rule.pattern):
        kind = _("concept rule")
    else:
        kind = ""
    html = format_html("<code>{}</code>", rule.pattern)
    if kind:
        html = format_html('{} <span class="badge text-bg-light">{}</span>', html, kind)
    if not rule.negation_suppresses:
        html = format_html('{} <span class="badge text-bg-warning">{}</span>', html, _("negation not checked"))
    return html


def lexicon_active_cell(rule: LexiconRule) -> str:
    if not rule.is_active:
        return "✘"
    if rule.active_from or rule.active_until:
        start = rule.active_from.isoformat() if rule.active_from else "…"
        end = rule.active_until.isoformat() if rule.active_until else "…"
        return f"{start} – {end}"
    return "✔"
