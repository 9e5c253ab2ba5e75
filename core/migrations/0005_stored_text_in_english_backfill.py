"""Notifications and job messages stored before they were also written in English: the
English is read back from the Chinese through the catalogue (core.languages). The
wordings are listed here as they were when this migration was written, so it reads
the rows of that time whatever the services say later; a text that none of them
reads (a person's comment, an exception's text) is left without English and shown as
written."""

from django.db import migrations

from core.languages import english_reader

WORDINGS = [
    # Notifications (referrals, compliance)
    "New referral to review: %(customer)s",
    "Review by %(due)s.",
    "Referral accepted: %(customer)s",
    "%(branch)s accepted it; relationship manager: %(rm)s.",
    "Referral assigned to you: %(customer)s",
    "First contact by %(due)s.",
    "Referral rejected: %(customer)s",
    "Referral converted: %(customer)s",
    "%(product)s, %(amount)s CNY",
    "Referral returned to you: %(customer)s",
    "Referral overdue for review: %(customer)s",
    "Referral overdue for first contact: %(customer)s",
    "Escalation: referral still overdue at %(branch)s (%(customer)s)",
    "Flag escalated to you: %(match)s",
    "Compliance feedback: %(outcome)s",
    "Script awaiting review: %(title)s v%(n)s",
    "Script approved: %(title)s v%(n)s",
    "Script rejected: %(title)s v%(n)s",
    # Job messages (compliance rescans, model training, the job sweeper)
    "Rescanning",
    "%(n)d new flags so far",
    "Loading outcomes",
    "Cross-validating and training",
    "Evaluating the active model on the same folds",
    "Saving the model version",
    "Stopped after %(n)d attempts: the work failed or its worker stopped each time.",
]


def backfill(apps, schema_editor):
    english_of = english_reader(WORDINGS)
    Notification = apps.get_model("core", "Notification")
    Job = apps.get_model("core", "Job")
    for n in Notification.objects.filter(title_en="").exclude(title="").only("pk", "title", "body").iterator():
        title_en = english_of(n.title)
        body_en = english_of(n.body) if n.body else ""
        if title_en or body_en:
            Notification.objects.filter(pk=n.pk).update(title_en=title_en[:200], body_en=body_en)
    for pk, message in Job.objects.filter(message_en="").exclude(message="").values_list("pk", "message").iterator():
        message_en = english_of(message)
        if message_en:
            Job.objects.filter(pk=pk).update(message_en=message_en[:500])


class Migration(migrations.Migration):
    dependencies = [("core", "0004_stored_text_in_english")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
