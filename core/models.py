"""Core models: the audit log, background-job progress and in-app notifications."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .access import RestrictedQuerySet
from .languages import in_reader_language


class AuditEventQuerySet(RestrictedQuerySet):
    def _restrict(self, user, action):
        # The audit log is for those who audit (compliance officers, administrators):
        # who holds it is the role's permission (granted by org), not a rule here.
        return self if user.has_perm("core.view_auditevent") else self.none()


class JobQuerySet(RestrictedQuerySet):
    def _restrict(self, user, action):
        # Everyone sees the jobs they started; holders of core.view_all_jobs see all.
        return self if user.has_perm("core.view_all_jobs") else self.filter(created_by=user)


class NotificationQuerySet(RestrictedQuerySet):
    def _restrict(self, user, action):
        return self.filter(recipient=user)


class AuditEvent(models.Model):
    """One change or sensitive read, written by a service in the same transaction."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("actor"),
    )
    verb = models.CharField(_("verb"), max_length=64)
    target_type = models.CharField(_("target type"), max_length=64)
    target_id = models.CharField(_("target id"), max_length=64)
    occurred_at = models.DateTimeField(_("occurred at"), auto_now_add=True, db_index=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["target_type", "target_id", "-occurred_at"], name="audit_target_idx"),
            models.Index(fields=["actor", "-occurred_at"], name="audit_actor_idx"),
            models.Index(fields=["verb", "-occurred_at"], name="audit_verb_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.verb} {self.target_type}#{self.target_id}"


class Job(models.Model):
    """Progress of a long background task (import, scoring, rescans, seeding).

    Tasks take the job id, update ``done``/``total`` as they go, and finish by setting
    ``status``; pages poll the job with htmx to draw a progress bar.

    A job knows the message that carries it (``task`` and ``task_args``) and when a
    worker last reported on it (``heartbeat_at``): the sweeper (``core.sweep_jobs``, on
    beat) sends that message again when a job has gone quiet for longer than its lease,
    so a job whose worker was killed finishes without anyone acting. A task takes a job
    with ``core.services.job_claim`` and parts of it with ``JobChunk``.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=64, db_index=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    total = models.PositiveBigIntegerField(_("total"), default=0)
    done = models.PositiveBigIntegerField(_("done"), default=0)
    message = models.CharField(_("message"), max_length=500, blank=True)
    # The message in English when the worker worded it (core.languages); else empty.
    message_en = models.CharField(_("message in English"), max_length=500, blank=True)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    task = models.CharField(_("task"), max_length=100, blank=True)
    task_args = models.JSONField(_("task arguments"), default=list, blank=True)
    heartbeat_at = models.DateTimeField(_("last report"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)

    objects = JobQuerySet.as_manager()

    class Meta:
        verbose_name = _("background job")
        verbose_name_plural = _("background jobs")
        ordering = ["-created_at", "-id"]
        # Everyone sees the jobs they started; holders of this see every job.
        permissions = [("view_all_jobs", _("Can see every background job"))]
        indexes = [
            models.Index(
                fields=["heartbeat_at"],
                name="job_open_heartbeat_idx",
                condition=models.Q(status__in=["pending", "running"]),
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} {self.status}"

    @property
    def percent(self) -> int:
        """The share of ``total`` done. A job that finished with items left over (rows an
        import skipped, a chunk that found nothing to do) shows what it did, not 100 %,
        so the bar and the "done/total" beside it never disagree."""
        if not self.total:
            return 100 if self.status == self.Status.SUCCEEDED else 0
        return min(100, int(self.done * 100 / self.total))

    @property
    def message_text(self) -> str:
        """The progress or error message in the reader's language."""
        return in_reader_language(self.message, self.message_en)

    @property
    def message_shown(self) -> str:
        """What the jobs page and the bar say beside the status: the worker's message while
        it runs and the reason once it failed. A succeeded job's last message is a step
        it has finished ("正在纳入客群客户" beside 已完成 read as still running), so none."""
        return "" if self.status == self.Status.SUCCEEDED else self.message_text

    @property
    def left_over(self) -> int:
        """Items of ``total`` a finished job did not process (0 while it runs)."""
        return max(0, self.total - self.done) if self.is_finished else 0

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)


class JobChunk(models.Model):
    """One part of a job: a range ``[lo, hi)`` of ids or of file lines.

    A chunk is marked done in the same transaction as the writes it made, under a lock
    on its own row, so it is never done twice whatever the broker redelivers; a chunk
    whose worker died is unlocked (the database ends the dead connection's transaction)
    and the next delivery, or the sweeper, does it. ``result`` holds what the chunk
    counted, summed into the job's result at the end.
    """

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="chunks", verbose_name=_("job"))
    lo = models.BigIntegerField(_("range start"))
    hi = models.BigIntegerField(_("range end"))
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)

    class Meta:
        verbose_name = _("job part")
        verbose_name_plural = _("job parts")
        # By the job's id, not the job: ordering by the foreign key would join the job
        # row into every chunk query (and into its row lock).
        ordering = ["job_id", "lo"]
        constraints = [models.UniqueConstraint(fields=["job", "lo"], name="job_chunk_once")]

    def __str__(self) -> str:
        return f"{self.job_id} [{self.lo}, {self.hi})"


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("recipient")
    )
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"), blank=True, max_length=2000)
    # Title and body in English beside the working language's (core.languages).
    title_en = models.CharField(_("title in English"), max_length=200, blank=True)
    body_en = models.TextField(_("body in English"), blank=True, max_length=2000)
    url = models.CharField(_("link"), max_length=500, blank=True)
    # What the notification is about, so one event notifies a user once.
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    event_key = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notif_unread_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "event_key"],
                condition=~models.Q(event_key=""),
                name="notif_once_per_event",
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def title_text(self) -> str:
        return in_reader_language(self.title, self.title_en)

    @property
    def body_text(self) -> str:
        return in_reader_language(self.body, self.body_en)
