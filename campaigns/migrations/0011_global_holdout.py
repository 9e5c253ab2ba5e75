"""The global holdout becomes a history of draws (``HoldoutDraw``); the first draw is
today's rule (``id × 2654435761 mod 100 < 5``, the multiplier as the salt and a modulus
no id reaches), so nobody held out so far moves. Campaigns get their attribution window;
enrolments an index for the monthly global-holdout report."""

import datetime as dt

import campaigns.models
import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


# The rule before draws existed: a Knuth multiplicative hash of the id, mod 100.
LEGACY_SALT = 2654435761
LEGACY_MODULUS = 2**62


def first_draw(apps, schema_editor):
    HoldoutDraw = apps.get_model("campaigns", "HoldoutDraw")
    if not HoldoutDraw.objects.exists():
        percent = min(5, max(1, getattr(settings, "WORKBENCH_CAMPAIGN_HOLDOUT_PERCENT", 5)))
        HoldoutDraw.objects.create(
            percent=percent,
            salt=LEGACY_SALT,
            modulus=LEGACY_MODULUS,
            valid_from=dt.date(2000, 1, 1),
        )


class Migration(migrations.Migration):

    dependencies = [
        ('campaigns', '0010_branch_window'),
        ('customers', '0006_merge_20261202_1148'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='HoldoutDraw',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('percent', models.PositiveSmallIntegerField(validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(5)], verbose_name='held-out share (%)')),
                ('salt', models.PositiveBigIntegerField(verbose_name='hash salt')),
                ('modulus', models.PositiveBigIntegerField(verbose_name='hash modulus')),
                ('valid_from', models.DateField(unique=True, verbose_name='valid from')),
                ('note', models.CharField(blank=True, max_length=200, verbose_name='note')),
                ('drawn_at', models.DateTimeField(auto_now_add=True, verbose_name='drawn at')),
            ],
            options={
                'verbose_name': 'global holdout draw',
                'verbose_name_plural': 'global holdout draws',
                'ordering': ['-valid_from'],
            },
        ),
        migrations.AddField(
            model_name='campaign',
            name='attribution_days',
            field=models.PositiveSmallIntegerField(db_default=30, default=campaigns.models.default_attribution_days, validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(180)], verbose_name='attribution window (days)'),
        ),
        migrations.AddIndex(
            model_name='enrolment',
            index=models.Index(fields=['arm', 'entered_at', 'customer'], name='enrol_arm_entered_idx'),
        ),
        migrations.AddField(
            model_name='holdoutdraw',
            name='drawn_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.RunPython(first_draw, migrations.RunPython.noop),
    ]
