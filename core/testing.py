"""Test helpers shared by every app's access tests."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.apps import apps

from .access import RestrictedQuerySet

# (model label, action) pairs some test has checked in this run: the root conftest fails a
# full run that leaves a row-scoped model's action unchecked.
CHECKED: set[tuple[str, str]] = set()


def assert_rule_agrees(*, model, action: str, predicate: Callable, users: Iterable, objects: Iterable) -> int:
    """``model.objects.restrict(user, action)`` holds exactly the objects ``predicate(user,
    obj)`` allows, for every user and object given. Returns how many (user, object) pairs
    were allowed, so a caller can also check the world exercised both answers."""
    CHECKED.add((model._meta.label, action))
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


def rules_in_project() -> set[tuple[str, str]]:
    """Every (model label, action) of every model whose manager is a RestrictedQuerySet."""
    return {
        (model._meta.label, action)
        for model in apps.get_models()
        if isinstance(model._default_manager.all(), RestrictedQuerySet)
        for action in model._default_manager.all().ACTIONS
    }
