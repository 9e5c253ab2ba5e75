"""The journey drawn as a flow diagram: SVG markup rendered on the server.

One box per step, top to bottom in position order, with its kind, channel, script and
live counts. A step that is not a branch goes on to the box below (or to the end after
the last step). A branch draws two labelled arrows: to the box below as a straight line,
to any other step along a lane on the right (a lane per arrow whose spans overlap, so
loops back to a wait and jumps forward never cross on one line), and to a small "end"
mark on the left where its target is None. No script, no inline style (the
Content-Security-Policy): the classes are styled by ``static/css/workbench.css`` and the
``viewBox`` lets the drawing scale to its column.
"""

from __future__ import annotations

import unicodedata

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, ngettext, pgettext
from django.utils.translation import gettext as _

from .models import BranchCondition, CampaignStep, StepKind
from .selectors import JourneyCounts, StepCounts

BOX_W, GAP = 360, 46
BOX_H, BOX_H_PLAIN = 104, 58  # with the counts, and without (a draft nobody follows yet)
LEFT = 96  # room for the "end" marks of branches
TOP = 12
LANE = 28
LINE = 17
END_W, END_H = 64, 26


def _chinese() -> bool:
    return (get_language() or "").startswith("zh")


def words_list(items) -> str:
    """Items joined as a list in the user's language: 甲、乙 or a, b."""
    return ("、" if _chinese() else ", ").join(str(i) for i in items)


def clauses(items) -> str:
    """Clauses joined in the user's language: 甲；乙 or a; b."""
    return ("；" if _chinese() else "; ").join(str(i) for i in items)


def _units(ch: str) -> float:
    return 1.0 if unicodedata.east_asian_width(ch) in ("W", "F") else 0.56


def fit(text: str, width_em: float) -> str:
    """``text`` cut to about ``width_em`` ems (a CJK character is one em), with an ellipsis."""
    total = 0.0
    for i, ch in enumerate(text):
        total += _units(ch)
        if total > width_em:
            return text[: max(i - 1, 0)] + "…"
    return text


def wait_words(hours: int | None) -> str:
    if not hours:
        return "—"
    if hours % 24 == 0:
        days = hours // 24
        return ngettext("%(n)s day", "%(n)s days", days) % {"n": days}
    return ngettext("%(n)s hour", "%(n)s hours", hours) % {"n": hours}


def step_title(step: CampaignStep) -> str:
    """``3. 发送消息 · 短信``: the position, the kind and (for a message) the channel."""
    head = f"{step.position}. {step.get_kind_display()}"
    if step.kind == StepKind.SEND and step.channel:
        head += f" · {step.get_channel_display()}"
    return head


def step_subject(step: CampaignStep) -> str:
    """The second line: the script, the wait, or the branch's question."""
    if step.kind == StepKind.WAIT:
        return _("For %(time)s") % {"time": wait_words(step.wait_hours)}
    if step.kind == StepKind.BRANCH:
        label = BranchCondition(step.condition).label if step.condition in BranchCondition.values else "—"
        if step.wait_hours:
            return _("If: %(condition)s, within %(time)s") % {"condition": label, "time": wait_words(step.wait_hours)}
        return _("If: %(condition)s") % {"condition": label}
    title = step.script.title if step.script_id else "—"
    if step.kind == StepKind.CALL_TASK and step.due_hours:
        return _("%(script)s · due within %(time)s") % {"script": title, "time": wait_words(step.due_hours)}
    return title


def count_lines(step: CampaignStep, c: StepCounts) -> list[str]:
    """The counts a box shows, in words (the same lines the table repeats)."""
    lines = [_("Now here %(active)s · passed %(passed)s") % {"active": c.active, "passed": c.passed}]
    if step.kind == StepKind.SEND:
        lines.append(
            _("Queued %(q)s · sent %(s)s · delivered %(d)s · failed %(f)s")
            % {"q": c.queued, "s": c.sent, "d": c.delivered, "f": c.failed}
        )
    elif step.kind == StepKind.CALL_TASK:
        lines.append(
            _("Tasks open %(p)s · done %(d)s · no capacity yet %(w)s")
            % {"p": c.tasks_planned, "d": c.tasks_done, "w": c.waiting}
        )
    elif step.kind == StepKind.BRANCH:
        lines.append(_("Yes %(yes)s · no %(no)s") % {"yes": c.yes, "no": c.no})
    extra = []
    if step.kind in (StepKind.SEND, StepKind.CALL_TASK):
        extra.append(_("blocked %(n)s") % {"n": c.blocked_total})
        extra.append(_("control %(n)s") % {"n": c.control})
    if step.kind == StepKind.SEND and (c.replied or c.clicked):
        extra.append(_("replied %(r)s · clicked %(c)s") % {"r": c.replied, "c": c.clicked})
    extra.append(_("converted %(n)s") % {"n": c.converted})
    lines.append(" · ".join(extra))
    return lines


def _arm_word(arm: str) -> str:
    return pgettext("branch arm", "Yes") if arm == "yes" else pgettext("branch arm", "No")


def _box_y(position_index: int, box_h: int) -> int:
    return TOP + position_index * (box_h + GAP)


def _lanes(edges: list[tuple[int, int]]) -> list[int]:
    """A lane per edge (spans as (from index, to index)); edges whose spans overlap get
    different lanes, the shortest nearest the boxes."""
    order = sorted(range(len(edges)), key=lambda i: abs(edges[i][1] - edges[i][0]))
    taken: list[list[tuple[int, int]]] = []
    lane_of = [0] * len(edges)
    for i in order:
        lo, hi = sorted(edges[i])
        for lane, spans in enumerate(taken):
            if all(hi < a or lo > b for a, b in spans):
                spans.append((lo, hi))
                lane_of[i] = lane
                break
        else:
            taken.append([(lo, hi)])
            lane_of[i] = len(taken) - 1
    return lane_of


def render_journey(
    steps: list[CampaignStep], *, counts: JourneyCounts | None, title: str, element_id: str = "journey-diagram"
) -> SafeString:
    """The SVG of ``steps`` (one version, in order); ``counts`` None draws no counts (a
    draft version nobody follows yet)."""
    index = {s.position: i for i, s in enumerate(steps)}
    parts: list[SafeString] = []
    arrows: list[SafeString] = []
    far: list[tuple[int, int, str, int]] = []  # (from index, to index, arm, from position)
    x0, cx = LEFT, LEFT + BOX_W // 2
    box_h = BOX_H if counts is not None else BOX_H_PLAIN

    for i, step in enumerate(steps):
        y = _box_y(i, box_h)
        lines = [step_title(step), step_subject(step)]
        if counts is not None:
            lines += count_lines(step, counts.of(step))
        texts = format_html_join(
            "",
            '<text x="{}" y="{}" class="{}">{}</text>',
            (
                (x0 + 10, y + 20 + n * LINE, "jd-head" if n == 0 else ("jd-sub" if n == 1 else "jd-count"), fit(t, 29))
                for n, t in enumerate(lines)
            ),
        )
        parts.append(
            format_html(
                '<g class="jd-step jd-step-{kind}" data-position="{pos}"><title>{full}</title>'
                '<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="8" class="jd-box"></rect>{texts}</g>',
                kind=step.kind,
                pos=step.position,
                full="\n".join(lines),
                x=x0,
                y=y,
                w=BOX_W,
                h=box_h,
                texts=texts,
            )
        )
        bottom, next_top = y + box_h, _box_y(i + 1, box_h)
        if step.kind != StepKind.BRANCH:
            if i + 1 < len(steps):
                arrows.append(_line(cx, bottom, cx, next_top - 2, "next", step.position, steps[i + 1].position))
            else:
                arrows.append(_line(cx, bottom, cx, next_top - 2, "next", step.position, "end"))
                parts.append(_end_mark(cx - END_W // 2, next_top, "jd-end-final"))
            continue
        for arm, target, dy in (("yes", step.yes_position, 0.36), ("no", step.no_position, 0.68)):
            word = _arm_word(arm)
            if target is None:
                ay = int(y + box_h * dy)
                arrows.append(_line(x0, ay, 8 + END_W + 2, ay, arm, step.position, "end"))
                arrows.append(_label(x0 - 6, ay - 6, word, arm, anchor="end"))
                parts.append(_end_mark(8, ay - END_H // 2, "jd-end-branch"))
            elif target in index and index[target] == i + 1:
                offset = -36 if arm == "yes" else 36
                if step.yes_position == step.no_position:
                    offset = 0
                arrows.append(_line(cx + offset, bottom, cx + offset, next_top - 2, arm, step.position, target))
                arrows.append(_label(cx + offset + 6, bottom + GAP // 2 + 4, word, arm))
            elif target in index:
                far.append((i, index[target], arm, step.position))

    lanes = _lanes([(a, b) for a, b, _arm, _p in far])
    entries: dict[int, int] = {}
    for (a, b, arm, from_pos), lane in zip(far, lanes, strict=True):
        lx = x0 + BOX_W + LANE * (lane + 1)
        sy = int(_box_y(a, box_h) + box_h * (0.36 if arm == "yes" else 0.68))
        k = entries.get(b, 0)
        entries[b] = k + 1
        ty = _box_y(b, box_h) + 12 + 8 * (k % 5)
        d = f"M{x0 + BOX_W},{sy} H{lx} V{ty} H{x0 + BOX_W + 2}"
        arrows.append(
            format_html(
                '<path d="{}" class="jd-arrow jd-arrow-{}" marker-end="url(#jd-head)"'
                ' data-from="{}" data-to="{}"></path>',
                d,
                arm,
                from_pos,
                steps[b].position,
            )
        )
        arrows.append(_label(x0 + BOX_W + 6, sy - 5, _arm_word(arm), arm))

    width = x0 + BOX_W + LANE * (max(lanes, default=-1) + 2) + 10
    # Room for the end mark below the last box only when a last non-branch step leads there.
    final_end = bool(steps) and steps[-1].kind != StepKind.BRANCH
    height = _box_y(len(steps), box_h) + (END_H + 8 if final_end else -GAP + 8)
    if not steps:
        height = 60
        parts.append(format_html('<text x="{}" y="34" class="jd-sub">{}</text>', x0, _("No steps yet.")))
    desc = _("%(n)s steps: %(steps)s.") % {
        "n": len(steps),
        "steps": clauses(
            _("%(step)s (%(what)s) %(then)s")
            % {"step": step_title(s), "what": step_subject(s), "then": _next_words(s, index)}
            for s in steps
        ),
    }
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" class="jd-svg" role="img" id="{id}"'
        ' aria-labelledby="{id}-title {id}-desc" preserveAspectRatio="xMinYMin meet">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>'
        '<defs><marker id="jd-head" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7"'
        ' orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="jd-arrowhead"></path></marker></defs>'
        "{arrows}{parts}</svg>",
        w=width,
        h=height,
        id=element_id,
        title=title,
        desc=desc,
        arrows=mark_safe("".join(arrows)),  # noqa: S308 - each piece is built by format_html
        parts=mark_safe("".join(parts)),  # noqa: S308 - each piece is built by format_html
    )


def journey_rows(steps: list[CampaignStep], counts: JourneyCounts | None) -> list[dict]:
    """The diagram as a table (for screen readers and for reading): each step's words,
    counts and where it leads."""
    index = {s.position: i for i, s in enumerate(steps)}
    return [
        {
            "step": s,
            "title": step_title(s),
            "subject": step_subject(s),
            "counts": clauses(
                [*count_lines(s, counts.of(s)), *(f"{label} {n}" for label, n in counts.of(s).blocked.items())]
            )
            if counts is not None
            else "",
            "next": _next_words(s, index),
        }
        for s in steps
    ]


def _next_words(step: CampaignStep, index: dict) -> str:
    def goes(target) -> str:
        return _("end") if target is None or target not in index else _("step %(n)s") % {"n": target}

    if step.kind == StepKind.BRANCH:
        return _("yes → %(yes)s, no → %(no)s") % {"yes": goes(step.yes_position), "no": goes(step.no_position)}
    following = step.position + 1
    return "→ " + goes(following if following in index else None)


def _line(x1, y1, x2, y2, arm: str, src, dst) -> SafeString:
    return format_html(
        '<line x1="{}" y1="{}" x2="{}" y2="{}" class="jd-arrow jd-arrow-{}" marker-end="url(#jd-head)"'
        ' data-from="{}" data-to="{}"></line>',
        x1,
        y1,
        x2,
        y2,
        arm,
        src,
        dst,
    )


def _label(x, y, word: str, arm: str, anchor: str = "start") -> SafeString:
    return format_html(
        '<text x="{}" y="{}" class="jd-label jd-label-{}" text-anchor="{}">{}</text>', x, y, arm, anchor, word
    )


def _end_mark(x, y, css: str) -> SafeString:
    return format_html(
        '<g class="jd-end {}"><rect x="{}" y="{}" width="{}" height="{}" rx="13"></rect>'
        '<text x="{}" y="{}" text-anchor="middle">{}</text></g>',
        css,
        x,
        y,
        END_W,
        END_H,
        x + END_W // 2,
        y + 17,
        _("End"),
    )
