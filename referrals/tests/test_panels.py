"""The referral page's extension point: what the apps above register in REFERRAL_PANELS."""

from __future__ import annotations

import copy

import pytest
from django.urls import reverse

from referrals.extensions import REFERRAL_PANELS, ReferralPanel


@pytest.fixture
def panel(monkeypatch):
    """A panel as an app above would register it (the slot is restored afterwards)."""
    monkeypatch.setattr(REFERRAL_PANELS, "_entries", list(REFERRAL_PANELS.entries()))
    seen = []

    def context(request, referral):
        seen.append((request.user, referral.pk))
        return {"greeting": "<i>来自上层应用</i>"}

    REFERRAL_PANELS.register(
        ReferralPanel(key="test", label="测试面板", template="referrals/tests/panel.html", context=context, order=1)
    )
    return seen


def test_registered_panels_are_drawn_with_their_context_escaped(world, client_for, referral, panel, settings, tmp_path):
    (tmp_path / "referrals" / "tests").mkdir(parents=True)
    (tmp_path / "referrals" / "tests" / "panel.html").write_text("{{ referral.pk }}:{{ greeting }}")
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["DIRS"] = [*templates[0]["DIRS"], tmp_path]
    settings.TEMPLATES = templates
    html = client_for(world.manager_x).get(reverse("referrals:detail", args=[referral.pk])).content.decode()
    assert 'data-panel="test"' in html and "测试面板" in html
    assert f"{referral.pk}:&lt;i&gt;来自上层应用&lt;/i&gt;" in html
    assert panel == [(world.manager_x, referral.pk)]


def test_no_panel_context_is_asked_for_a_referral_out_of_scope(world, client_for, referral, panel):
    assert client_for(world.manager_y).get(reverse("referrals:detail", args=[referral.pk])).status_code == 404
    assert panel == []
