"""Shell views: log-in, home, audit log, background jobs and notifications."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template import loader
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import trigger_client_event

from calls.selectors import MEASURES, advisor_kpis
from core import selectors as core_selectors
from core import services as core_services
from core.access import require
from core.filters import AuditEventFilter
from core.htmx import render_table_page
from org.roles import Role, role_of

from . import selectors
from .access import can_view_audit_log, can_view_jobs_page
from .tables import AuditEventTable, JobTable, NotificationTable


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True


def home(request):
    stats = selectors.home_stats(user=request.user)
    context = {"stats": stats, "role": role_of(request.user)}
    # A branch's first screen of zeros says what will come and where (nothing to work yet).
    context["nothing_yet"] = bool(stats) and all(str(s.value) == "0" for s in stats)
    if context["role"] == Role.ADVISOR:  # the advisor's call measures
        context["call_kpis"] = advisor_kpis(user=request.user)
        context["measures"] = MEASURES
    return render(request, "workbench/home.html", context)


@require(can_view_audit_log)
def audit_list(request):
    qs = core_selectors.audit_events_list(user=request.user)
    f = AuditEventFilter(request.GET, queryset=qs)
    table = AuditEventTable(f.qs)
    return render_table_page(request, "workbench/audit_list.html", table, {"filter": f})


@require(can_view_jobs_page)
def job_list(request):
    table = JobTable(core_selectors.jobs_for(user=request.user))
    return render_table_page(request, "workbench/job_list.html", table, {})


def job_progress(request, pk: int):
    """A job's progress bar; while the job runs, the fragment polls itself."""
    job = core_selectors.job_get_for_user(user=request.user, pk=pk)
    return render(request, "core/_job_progress.html", {"job": job})


def notification_badge(request):
    return render(
        request,
        "workbench/notifications.html#badge",
        {"unread": core_selectors.notifications_unread_count(user=request.user)},
    )


def notification_list(request):
    table = NotificationTable(core_selectors.notifications_for(user=request.user))
    return render_table_page(
        request,
        "workbench/notifications.html",
        table,
        {"unread": core_selectors.notifications_unread_count(user=request.user)},
    )


@require_POST
def notifications_mark_read(request):
    core_services.notifications_mark_read(actor=request.user)
    if request.htmx:
        response = HttpResponse(status=204)
        trigger_client_event(response, "notifications-changed")
        response["HX-Refresh"] = "true"  # django-htmx has no helper for a full refresh
        return response
    return redirect("workbench:notifications")


# The error pages (``handler403``/``handler404``/``handler500`` in ``urls.py``): what
# happened, in the user's language, and what to do next.
def _error_page(request, status: int, **context) -> HttpResponse:
    return render(request, "_error_page.html", {"status": status, **context}, status=status)


def permission_denied(request, exception=None):
    return _error_page(
        request,
        403,
        icon="lock",
        heading=_("This page is not part of your role"),
        explanation=_("Your role does not include this page, so nothing was shown or changed."),
        next_step=_("Use the menu on the left for the pages of your role, or ask your team lead for access."),
    )


def page_not_found(request, exception=None):
    return _error_page(
        request,
        404,
        icon="signpost-split",
        heading=_("Page not found"),
        explanation=_("This address leads to no page, or to a record outside the customers and work you can see."),
        next_step=_("Check the address, or find the record from the customer list or your queues."),
    )


def server_error(request):
    # Drawn without the request's context processors: the menu reads the database,
    # which may be what just failed.
    template = loader.get_template("_error_page.html")
    context = {
        "status": 500,
        "icon": "exclamation-octagon",
        "heading": _("Something went wrong on our side"),
        "explanation": _("The page could not be drawn. What you were doing was not saved unless a message said so."),
        "next_step": _("Try again in a minute; if it keeps failing, tell the administrator the time it happened."),
    }
    return HttpResponse(template.render(context), status=500)
