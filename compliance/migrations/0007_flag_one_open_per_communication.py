"""One flag per communication text under review. A migration of its own: on PostgreSQL the
index cannot be built in the transaction that merged the flags (pending trigger events)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("compliance", "0006_one_flag_per_communication")]

    operations = [
        migrations.AddConstraint(
            model_name='flag',
            constraint=models.UniqueConstraint(condition=models.Q(('kind', 'lexicon'), ('status__in', ['open', 'claimed', 'escalated'])), fields=('communication', 'text_digest'), name='flag_one_open_per_communication'),
        ),
    ]
