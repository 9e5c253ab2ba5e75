"""What makes a journey sound, for the journey as designed and for an A/B variant's own
order of its steps (``variants.variant_order_set``).

A journey is walked in an *order* of its step positions: the journey's own is the
positions ascending; a variant's is a permutation of them. After a step the walk goes to
the next position in the order, except a branch, which goes to its yes or no position
(and on from there in the same order). The rules below are written for any order, so a
variant's order is held to the journey's own rules: a branch never starts the walk nor
targets itself, a branch about a call waits for it, and every loop passes through a wait.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from ..models import BranchCondition, CampaignStep, StepKind

CALL_CONDITIONS = (BranchCondition.REACHED, BranchCondition.WON, BranchCondition.RESPONDED)
CONTACT_KINDS = (StepKind.SEND, StepKind.CALL_TASK)


def walk_order(steps: list[CampaignStep], order: list[int] | None = None) -> list[int]:
    """The positions in the order they are walked: ``order`` if given, else ascending."""
    return list(order) if order is not None else sorted(s.position for s in steps)


def _successors(step: CampaignStep, positions: set[int], following: dict[int, int]) -> list[int]:
    if step.kind == StepKind.BRANCH:
        return [p for p in (step.yes_position, step.no_position) if p in positions]
    nxt = following.get(step.position)
    return [nxt] if nxt is not None else []


def journey_problems(steps: list[CampaignStep], order: list[int] | None = None) -> list[str]:
    """What is wrong with a journey walked in ``order`` (default: its own), in the user's
    language. Steps are named by their position in the journey as designed."""
    problems = []
    positions = {s.position for s in steps}
    by_position = {s.position: s for s in steps}
    sequence = walk_order(steps, order)
    following = dict(zip(sequence, sequence[1:], strict=False))
    if sequence and by_position[sequence[0]].kind == StepKind.BRANCH:
        problems.append(_("A branch asks about an earlier step: the journey cannot start with one."))
    for s in steps:
        if s.kind != StepKind.BRANCH:
            continue
        for target in (s.yes_position, s.no_position):
            if target is None:
                continue
            if target == s.position:
                problems.append(_("The branch at step %(n)s cannot lead to itself.") % {"n": s.position})
            elif target not in positions:
                problems.append(
                    _("The branch at step %(n)s leads to step %(t)s, which is not in the journey.")
                    % {"n": s.position, "t": target}
                )
    # A branch about a call must wait for it: the task step moves on once the task is
    # placed, so a branch asking at once would always answer no.
    for s in steps:
        if s.kind != StepKind.BRANCH or s.wait_hours or s.condition not in CALL_CONDITIONS:
            continue
        contacts = [by_position[p] for p in sequence[: sequence.index(s.position)]]
        contacts = [c for c in contacts if c.kind in CONTACT_KINDS]
        if contacts and contacts[-1].kind == StepKind.CALL_TASK:
            problems.append(
                _(
                    "The branch at step %(n)s asks about the call of step %(c)s at once, before anyone "
                    "could call: let it wait for an answer (for example 2 days)."
                )
                % {"n": s.position, "c": contacts[-1].position}
            )
    # A loop without a wait would run without end: look for a cycle among the steps that
    # are not waits (every cycle that avoids all waits is a cycle of that subgraph).
    graph = {
        s.position: [t for t in _successors(s, positions, following) if by_position[t].kind != StepKind.WAIT]
        for s in steps
        if s.kind != StepKind.WAIT
    }
    loop = _find_cycle(graph)
    if loop:
        problems.append(
            _("Steps %(steps)s form a loop without a wait: add a wait step inside the loop.")
            % {"steps": " → ".join(str(p) for p in loop)}
        )
    return problems


def journey_unreachable(steps: list[CampaignStep], order: list[int] | None = None) -> list[int]:
    """Positions no customer can reach from the first step of ``order`` (a step added after
    a branch, until a branch leads to it). Not an error in the journey as designed: the
    editor warns, the runner never gets there."""
    positions = {s.position for s in steps}
    by_position = {s.position: s for s in steps}
    sequence = walk_order(steps, order)
    following = dict(zip(sequence, sequence[1:], strict=False))
    seen, todo = set(), sequence[:1]
    while todo:
        p = todo.pop()
        if p not in seen:
            seen.add(p)
            todo.extend(_successors(by_position[p], positions, following))
    return sorted(positions - seen)


def _find_cycle(graph: dict[int, list[int]]) -> list[int] | None:
    """A cycle of ``graph`` (its nodes in order, the first repeated at the end) or None."""
    state: dict[int, int] = {}  # 1: on the path, 2: done
    for root in sorted(graph):
        if root in state:
            continue
        path, stack = [root], [iter(graph[root])]
        state[root] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            elif nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(graph[nxt]))
    return None
