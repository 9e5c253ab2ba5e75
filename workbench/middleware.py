"""The product's 404 page with debug on too.

With ``DEBUG`` on, Django answers an unknown address with its own page listing every URL
pattern (in English, and a map of the application). ``make run`` runs with debug on, so
that is the page people saw; this middleware puts the product's page in its place. With
debug off, Django already uses ``handler404`` and this does nothing.
"""

from __future__ import annotations

from django.conf import settings

from .views import page_not_found


class ProductNotFoundMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.DEBUG and response.status_code == 404 and "text/html" in response.get("Content-Type", ""):
            return page_not_found(request)
        return response
