"""REST API of this app (DRF), mounted under /api/ by workbench.api_urls."""

urlpatterns: list = []
