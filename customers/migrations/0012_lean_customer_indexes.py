"""Fewer indexes on customers (issue 15): each index is paid by every row an import
writes. Dropped: the ``varchar_pattern_ops`` twins of mobile, mobile_last4, id_number,
id_last4 and customer_no (searched by equality only, never LIKE 'x%'), and the owner and
home branch indexes that cust_owner_aum_idx and cust_branch_aum_idx begin with."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# Django makes this twin of the unique key for LIKE 'x%' on PostgreSQL; customer numbers
# are found by equality (customers.filters.search_q), which the unique index answers.
CUSTOMER_NO_LIKE = "customers_customer_customer_no_25ba515f_like"


def drop_customer_no_like(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {CUSTOMER_NO_LIKE}")


def restore_customer_no_like(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {CUSTOMER_NO_LIKE} ON customers_customer (customer_no varchar_pattern_ops)"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0011_home_figure_indexes"),
        ("org", "0004_journeys_capacity"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="customer",
            name="home_branch",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="customers",
                to="org.branch",
                verbose_name="home branch",
            ),
        ),
        migrations.AlterField(
            model_name="customer",
            name="id_last4",
            field=models.CharField(blank=True, editable=False, max_length=4),
        ),
        migrations.AlterField(
            model_name="customer",
            name="id_number",
            field=models.CharField(blank=True, max_length=32, verbose_name="ID number"),
        ),
        migrations.AlterField(
            model_name="customer",
            name="mobile",
            field=models.CharField(blank=True, max_length=20, verbose_name="mobile"),
        ),
        migrations.AlterField(
            model_name="customer",
            name="mobile_last4",
            field=models.CharField(blank=True, editable=False, max_length=4),
        ),
        migrations.AlterField(
            model_name="customer",
            name="owner",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="book",
                to=settings.AUTH_USER_MODEL,
                verbose_name="owner advisor",
            ),
        ),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(fields=["mobile"], name="cust_mobile_idx"),
        ),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(fields=["mobile_last4"], name="cust_mobile_last4_idx"),
        ),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(fields=["id_number"], name="cust_id_number_idx"),
        ),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(fields=["id_last4"], name="cust_id_last4_idx"),
        ),
        migrations.RunPython(drop_customer_no_like, restore_customer_no_like, elidable=True),
    ]
