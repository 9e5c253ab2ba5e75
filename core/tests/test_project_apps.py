"""The project's apps are listed once (core.project) and every other place that must name
them agrees: the layer contract and its root packages in pyproject.toml, INSTALLED_APPS and
the Makefile's message catalogues."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from django.conf import settings

from core.project import PROJECT_APPS

ROOT = Path(__file__).resolve().parents[2]


def test_the_layer_contract_orders_the_same_apps_top_first():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    layers = next(c for c in config["contracts"] if c["type"] == "layers")["layers"]
    assert layers == list(reversed(PROJECT_APPS))
    assert sorted(config["root_packages"]) == sorted(PROJECT_APPS)


def test_installed_apps_end_with_the_project_apps_in_order():
    assert tuple(settings.INSTALLED_APPS[-len(PROJECT_APPS) :]) == PROJECT_APPS


def test_every_app_but_the_project_package_has_its_own_catalogue_in_the_makefile():
    listed = re.search(r"^APPS := (.+)$", (ROOT / "Makefile").read_text(), re.M).group(1).split()
    assert listed == [app for app in PROJECT_APPS if app != "workbench"]
    for app in listed:
        assert (ROOT / app / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po").exists(), app
