"""Test helpers shared by every app's access tests."""

from __future__ import annotations

from collections.abc import Callable, Iterable


def assert_rule_agrees(*, model, action: str, predicate: Callable, users: Iterable, objects: Iterable) -> int:
    """``model.objects.restrict(user, action)`` holds exactly the objects ``predicate(user,
    obj)`` allows, for every user and object given. Returns how many (user, object) pairs
    were allowed, so a caller can also check the world exercised both answers."""
    objects = list(objects)
    ids = [o.pk for o in objects]
    allowed = 0
    for user in users:
        by_rule = set(model.objects.filter(pk__in=ids).restrict(user, action).values_list("pk", flat=True))
        by_predicate = {o.pk for o in objects if predicate(user, o)}
        assert by_rule == by_predicate, (
            f"{model._meta.label} {action!r} for {user}: restrict gives {sorted(by_rule)}, "
            f"the predicate {sorted(by_predicate)}"
        )
        allowed += len(by_rule)
    return allowed
