from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", login_not_required(views.LoginView.as_view()), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("shell/", include(("workbench.shell_urls", "workbench"), namespace="workbench")),
    path("customers/", include(("customers.urls", "customers"), namespace="customers")),
    # The advisor's queues and call screens are pages about leads: /leads/, /leads/<lead>/.
    path("leads/", include(("calls.urls", "calls"), namespace="calls")),
    path("scoring/", include(("scoring.urls", "scoring"), namespace="scoring")),
    path("referrals/", include(("referrals.urls", "referrals"), namespace="referrals")),
    path("compliance/", include(("compliance.urls", "compliance"), namespace="compliance")),
    path("campaigns/", include(("campaigns.urls", "campaigns"), namespace="campaigns")),
    path("reports/", include(("reports.urls", "reports"), namespace="reports")),
    path("cadence/", include(("cadence.urls", "cadence"), namespace="cadence")),
    path("dashboards/", include(("dashboards.urls", "dashboards"), namespace="dashboards")),
    path("api/", include("workbench.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file (?script): no inline script, as
    # the Content-Security-Policy wants (templates/drf_spectacular/swagger_ui.html drops the
    # inline <style> too).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
]

# The product's error pages (Django's own are bare English).
handler403 = views.permission_denied
handler404 = views.page_not_found
handler500 = views.server_error
