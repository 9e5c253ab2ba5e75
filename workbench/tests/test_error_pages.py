"""403, 404 and 500 in the product's layout and the user's language."""

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import translation

from workbench import views


@pytest.fixture(autouse=True)
def _keep_the_language():
    """English requests activate English in this thread (LocaleMiddleware does not
    switch back): the tests that follow start in the language they started in."""
    before = translation.get_language()
    yield
    translation.activate(before)


def test_403_is_the_products_page_in_chinese_and_english(client_for, advisor):
    client = client_for(advisor)
    response = client.get(reverse("workbench:audit"))
    assert response.status_code == 403
    html = response.content.decode()
    assert 'data-testid="error-page"' in html and "你的角色不包含此页面" in html
    assert 'class="nav-link' in html  # the menu stays, so the user can go on
    html = client.get(reverse("workbench:audit"), headers={"Accept-Language": "en"}).content.decode()
    client.cookies["django_language"] = "en"
    html = client.get(reverse("workbench:audit")).content.decode()
    assert "This page is not part of your role" in html and "Forbidden" not in html


@pytest.mark.parametrize("debug", [False, True])
def test_404_is_the_products_page_even_with_debug_on(client_for, advisor, settings, debug):
    settings.DEBUG = debug
    response = client_for(advisor).get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "找不到此页面" in html and 'data-status="404"' in html
    assert "URLconf" not in html and "admin/" not in html  # not Django's list of patterns


def test_404_for_a_record_outside_the_users_scope(client_for, world):
    response = client_for(world.advisor_b).get(reverse("customers:detail", args=[999999]))
    assert response.status_code == 404 and "找不到此页面" in response.content.decode()


def test_500_page_is_drawn_without_the_database(rf, django_assert_num_queries, db):
    # the language the locale middleware activated for the request (here set by hand:
    # the view is called directly, without the middleware)
    with translation.override("zh-hans"), django_assert_num_queries(0):
        response = views.server_error(rf.get("/"))
    assert response.status_code == 500
    assert "系统出了点问题" in response.content.decode()
    with translation.override("en"):
        assert "Something went wrong" in views.server_error(rf.get("/")).content.decode()


@override_settings(DEBUG=False)
def test_500_from_a_failing_view_uses_the_products_page(world, monkeypatch):
    def boom(request):
        raise RuntimeError("broken")

    monkeypatch.setattr(views.selectors, "home_stats", lambda user: boom(None))
    client = Client(raise_request_exception=False)
    client.force_login(world.advisor_a)
    response = client.get("/")
    assert response.status_code == 500 and "系统出了点问题" in response.content.decode()
