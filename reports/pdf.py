"""The wealth report as a PDF (fpdf2, with a CJK TrueType font embedded and subset).

``render_report`` writes the pages in the active language and returns the PDF's bytes
with the report's text as written, line by line: the text is what compliance scans
before the report may be sent, so scan and PDF cannot differ.

The font is a TrueType-outline CJK font: Debian's ``fonts-wqy-microhei`` by default
(``WORKBENCH_REPORT_FONT`` names another). Debian's Noto CJK fonts are CFF-based
collections, which fpdf2 cannot subset; ``scripts/run.sh`` and ``.ci/run`` install the
package, and a missing font is a refusal in words (``FontMissing``), not a 500.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from core.templatetags.formatting import cny
from customers.models import Channel

from .selectors import ALLOCATION_PARTS, ReportFacts

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)
FONT = "cjk"
INK = (33, 37, 41)
MUTED = (108, 117, 125)
ACCENT = (13, 110, 253)
PART_COLOURS = ((13, 110, 253), (25, 135, 84), (255, 193, 7), (220, 53, 69), (108, 117, 125))

# The disclosures every report carries (shared/DOMAIN.md): the wealth-product risk
# statement, the past-performance rule of the China Banking Association (2023) and the
# fund one. They are printed in Chinese in every language (the wording the rules
# prescribe), with an English rendering under each in an English report.
DISCLOSURES_ZH = (
    "理财非存款、产品有风险、投资须谨慎。",
    "理财产品过往业绩不代表其未来表现，不等于理财产品实际收益，投资须谨慎。",
    "基金的过往业绩并不预示其未来表现。",
)


class FontMissing(RuntimeError):
    """No CJK TrueType font is installed where the report looks for one."""


def font_path() -> str:
    configured = getattr(settings, "WORKBENCH_REPORT_FONT", "")
    for candidate in (configured, *FONT_CANDIDATES):
        if candidate and Path(candidate).is_file():
            return candidate
    raise FontMissing(candidate)


def _date(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, dt.datetime):
        value = value.astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    return value.isoformat()


class _Report(FPDF):
    def __init__(self, footer_text: str):
        super().__init__(format="A4")
        self.footer_text = footer_text
        self.lines: list[str] = []
        self.set_auto_page_break(auto=True, margin=18)
        self.set_margins(16, 16, 16)
        self.add_font(FONT, "", font_path(), collection_font_number=0)
        self.set_font(FONT, size=10)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, size=7)
        self.set_text_color(*MUTED)
        self.cell(0, 5, f"{self.footer_text}  ·  {self.page_no()}/{{nb}}", align="C")
        self.set_text_color(*INK)

    # --- writing helpers: every visible string is kept for the scan ---------------------

    def heading(self, text: str) -> None:
        self.lines.append(text)
        if self.get_y() > self.h - 50:
            self.add_page()
        self.ln(3)
        self.set_font(FONT, size=13)
        self.set_text_color(*ACCENT)
        self.cell(0, 8, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_draw_color(*ACCENT)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.ln(2)
        self.set_font(FONT, size=10)
        self.set_text_color(*INK)

    def para(self, text: str, size: float = 10, muted: bool = False) -> None:
        self.lines.append(text)
        self.set_font(FONT, size=size)
        if muted:
            self.set_text_color(*MUTED)
        self.multi_cell(0, size * 0.55, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(*INK)
        self.set_font(FONT, size=10)

    def grid(self, header: list[str], rows: list[list[str]], widths: tuple[int, ...]) -> None:
        self.lines.append(" ".join(header))
        self.set_font(FONT, size=9)
        with self.table(
            col_widths=widths,
            text_align="LEFT",
            line_height=5.5,
            headings_style=FontFace(family=FONT, emphasis="", fill_color=(233, 236, 239)),
            first_row_as_headings=True,
            borders_layout="HORIZONTAL_LINES",
        ) as table:
            for i, row in enumerate([header, *rows]):
                if i:
                    self.lines.append(" ".join(row))
                cells = table.row()
                for value in row:
                    cells.cell(value)
        self.set_font(FONT, size=10)
        self.ln(2)


def _trend_chart(pdf: _Report, trend: list[tuple[dt.date, Decimal]]) -> None:
    """A line chart of the year's AUM, drawn in PDF vectors (no image library)."""
    x0, y0, w, h = pdf.l_margin + 18, pdf.get_y() + 2, pdf.w - pdf.l_margin - pdf.r_margin - 22, 45
    values = [float(v) for _, v in trend]
    lo, hi = min(values), max(values)
    if hi == lo:
        lo, hi = lo * 0.9, (hi * 1.1) or 1.0
    pdf.set_draw_color(*MUTED)
    pdf.set_line_width(0.2)
    pdf.line(x0, y0 + h, x0 + w, y0 + h)
    pdf.line(x0, y0, x0, y0 + h)
    pdf.set_font(FONT, size=7)
    pdf.set_text_color(*MUTED)
    for value, y in ((hi, y0), (lo, y0 + h)):
        pdf.set_xy(pdf.l_margin, y - 2)
        pdf.cell(17, 4, f"{value / 10_000:,.1f}" + _("×10k"), align="R")
    step = w / max(len(values) - 1, 1)
    points = [(x0 + i * step, y0 + h - (v - lo) / (hi - lo) * h) for i, v in enumerate(values)]
    pdf.set_draw_color(*ACCENT)
    pdf.set_line_width(0.6)
    if len(points) == 1:
        pdf.circle(x=points[0][0], y=points[0][1], radius=1.2, style="F")
    for (xa, ya), (xb, yb) in zip(points, points[1:], strict=False):
        pdf.line(xa, ya, xb, yb)
    labels = {0, len(trend) - 1, len(trend) // 2}
    for i in sorted(labels):
        pdf.set_xy(points[i][0] - 10, y0 + h + 1)
        pdf.cell(20, 4, trend[i][0].isoformat(), align="C")
    pdf.set_line_width(0.2)
    pdf.set_text_color(*INK)
    pdf.set_font(FONT, size=10)
    pdf.set_y(y0 + h + 7)


def _allocation_bar(pdf: _Report, parts: list[tuple[str, Decimal]], total: Decimal) -> None:
    x, y = pdf.l_margin, pdf.get_y()
    width = pdf.w - pdf.l_margin - pdf.r_margin
    for (_label, amount), colour in zip(parts, PART_COLOURS, strict=False):
        share = float(amount / total) if total else 0.0
        if share <= 0:
            continue
        pdf.set_fill_color(*colour)
        pdf.rect(x, y, width * share, 5, style="F")
        x += width * share
    pdf.set_fill_color(255, 255, 255)
    pdf.set_y(y + 8)


def render_report(
    *, facts: ReportFacts, script_body: str, advisor_name: str, generated_at: dt.datetime, english: bool
) -> tuple[bytes, str]:
    """The report's PDF and its text, in the active language (``english`` adds an English
    rendering under each Chinese disclosure)."""
    customer = facts.customer
    title = _("Annual wealth report %(year)d") % {"year": facts.year}
    pdf = _Report(footer_text=f"{title} · {customer.customer_no}")
    pdf.set_title(title)
    pdf.set_creator("workbench")
    pdf.alias_nb_pages()
    pdf.add_page()

    pdf.lines.append(title)
    pdf.set_font(FONT, size=18)
    pdf.cell(0, 10, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.para(
        _("Prepared for %(name)s (customer number %(no)s) by %(advisor)s on %(date)s.")
        % {"name": customer.name, "no": customer.customer_no, "advisor": advisor_name, "date": _date(generated_at)},
        size=9,
        muted=True,
    )
    pdf.ln(2)
    for paragraph in [p.strip() for p in script_body.splitlines() if p.strip()]:
        pdf.para(paragraph)

    # 1. AUM
    pdf.heading(_("1. Assets under management (AUM)"))
    start = facts.aum_start
    pdf.para(_("AUM now: %(now)s.") % {"now": cny(facts.aum_now)})
    if start is not None:
        change = facts.aum_now - start
        pdf.para(
            _("At the first statement of %(year)d: %(start)s; change since: %(change)s.")
            % {"year": facts.year, "start": cny(start), "change": cny(change)}
        )
    if facts.trend:
        _trend_chart(pdf, facts.trend)
    else:
        pdf.para(_("No asset statements this year."), muted=True)

    # Holdings (with their maturity dates) come before the allocation's percentages: the
    # surveillance lexicon reads a percentage within a few characters of "到期" as a
    # return forecast, and the scanned text is the report's text in its order.
    # 2. Holdings and maturities
    pdf.heading(_("2. Holdings and maturities"))
    if facts.holdings:
        pdf.grid(
            [_("Product"), _("Type"), _("Risk level"), _("Amount"), _("Maturity")],
            [
                [
                    f"{h.product.name} ({h.product.code})",
                    str(h.product.get_type_display()),
                    h.product.get_risk_level_display(),
                    cny(h.amount),
                    _date(h.maturity_date),
                ]
                for h in facts.holdings
            ],
            (70, 35, 20, 35, 25),
        )
    else:
        pdf.para(_("No holdings."), muted=True)
    if facts.maturing:
        pdf.para(
            _("Maturing in the next 12 months: %(n)d holding(s), %(amount)s in all.")
            % {"n": len(facts.maturing), "amount": cny(sum((h.amount for h in facts.maturing), Decimal("0")))}
        )
    else:
        pdf.para(_("Nothing matures in the next 12 months."))

    # 3. Allocation
    pdf.heading(_("3. Asset allocation"))
    labels = {
        "deposits": _("Deposits"),
        "wealth": _("Wealth products"),
        "funds": _("Funds"),
        "insurance": _("Insurance"),
        "other": _("Other"),
    }
    total = facts.allocation_total
    if facts.allocation and total:
        parts = [(labels[k], facts.allocation[k]) for k in ALLOCATION_PARTS if facts.allocation[k]]
        pdf.para(_("As of %(date)s:") % {"date": _date(facts.allocation_date)}, size=9, muted=True)
        _allocation_bar(pdf, parts, total)
        pdf.grid(
            [_("Asset class"), _("Amount"), _("Share")],
            [[label, cny(amount), f"{float(amount / total) * 100:.1f}%"] for label, amount in parts],
            (80, 60, 40),
        )
    else:
        pdf.para(_("No allocation on record."), muted=True)

    # 4. Risk profile
    pdf.heading(_("4. Risk profile"))
    if customer.risk_level:
        pdf.para(
            _("Risk tolerance %(level)s, assessed on %(assessed)s, valid until %(expires)s.")
            % {
                "level": customer.get_risk_level_display(),
                "assessed": _date(customer.risk_assessed_at),
                "expires": _date(customer.risk_expires_at),
            }
        )
        if customer.risk_expired:
            pdf.para(
                _("The assessment has expired: please complete a new one before any purchase."),
            )
    else:
        pdf.para(_("No risk assessment on record: please complete one before any purchase."))

    # 5. Interactions
    pdf.heading(_("5. Our contacts this year"))
    if facts.interactions_total:
        channels = _("; ").join(
            f"{label} {facts.interactions_by_channel[code]}"
            for code, label in Channel.choices
            if facts.interactions_by_channel.get(code)
        )
        pdf.para(
            _("%(n)d contact(s) in %(year)d: %(channels)s. Last contact: %(last)s.")
            % {
                "n": facts.interactions_total,
                "year": facts.year,
                "channels": channels,
                "last": _date(facts.last_interaction_at),
            }
        )
    else:
        pdf.para(_("No contacts on record this year."))

    # 6. Products
    pdf.heading(_("6. Products you may be offered"))
    pdf.para(
        _(
            "Only products whose risk level does not exceed your risk tolerance, under a valid "
            "assessment, are listed (suitability rules). This is not an offer to sell."
        ),
        size=9,
        muted=True,
    )
    if facts.offerable:
        pdf.grid(
            [_("Product"), _("Type"), _("Risk level"), _("Minimum amount")],
            [
                [f"{p.name} ({p.code})", str(p.get_type_display()), p.get_risk_level_display(), cny(p.min_amount, 0)]
                for p, _verdict in facts.offerable
            ],
            (85, 40, 25, 35),
        )
    else:
        pdf.para(_("No product can be offered until the risk assessment is valid."))

    # 7. Disclosures
    pdf.heading(_("Important notices"))
    translations = (
        "Wealth products are not deposits; products carry risk; invest with care.",
        "A wealth product's past performance does not indicate its future performance, is not its "
        "actual return; invest with care.",
        "A fund's past performance does not predict its future performance.",
    )
    for zh, en in zip(DISCLOSURES_ZH, translations, strict=True):
        pdf.para(zh, size=9)
        if english:
            pdf.para(en, size=8, muted=True)
    pdf.para(
        _(
            "Product risk levels are those of the product master data. "
            "Figures are as recorded by the bank on the date above."
        ),
        size=8,
        muted=True,
    )
    data = bytes(pdf.output())
    return data, "\n".join(pdf.lines)
