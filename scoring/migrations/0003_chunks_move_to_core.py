"""Rescoring chunks become core job parts (core.JobChunk), shared by every chunked job."""

from django.db import migrations


def copy_chunks(apps, schema_editor):
    old = apps.get_model("scoring", "RescoreChunk")
    new = apps.get_model("core", "JobChunk")
    new.objects.bulk_create(
        [
            new(
                job_id=c.job_id,
                lo=c.lo,
                hi=c.hi,
                done_at=c.done_at,
                result={"customers": c.customers, "leads": c.leads_created},
            )
            for c in old.objects.order_by().iterator()
        ],
        ignore_conflicts=True,
        batch_size=1000,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("scoring", "0002_role_permissions"),
        ("core", "0002_job_lease_and_chunks"),
    ]

    operations = [
        migrations.RunPython(copy_chunks, migrations.RunPython.noop),
        migrations.DeleteModel(name="RescoreChunk"),
    ]
