"""Every model of the workbench is in Django admin, and each admin page loads."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from core.project import PROJECT_APPS

OUR_APPS = [app for app in PROJECT_APPS if app != "workbench"]  # workbench has no models


def our_models():
    return [m for label in OUR_APPS for m in apps.get_app_config(label).get_models()]


@pytest.mark.parametrize("model", our_models(), ids=lambda m: m._meta.label)
def test_model_is_registered_and_its_admin_pages_load(client_for, world, model):
    assert admin.site.is_registered(model), f"{model._meta.label} is not in Django admin"
    client = client_for(world.admin)
    opts = model._meta
    changelist = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"), {"q": "x"})
    assert changelist.status_code == 200
    model_admin = admin.site._registry[model]
    if model_admin.has_add_permission(type("R", (), {"user": world.admin})()):
        assert client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add")).status_code == 200


def test_admin_is_for_administrators_only(client_for, world):
    response = client_for(world.advisor_a).get(reverse("admin:index"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
