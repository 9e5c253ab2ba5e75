"""The default call-disposition taxonomy (issue 5). Editable afterwards in the admin."""

from django.db import migrations

DISPOSITIONS = [
    # code, label, English label, connected, effective, requests callback
    ("effective", "接通-有效沟通", "Connected – effective conversation", True, True, False),
    ("refused", "接通-客户拒绝", "Connected – refused", True, False, False),
    ("callback", "接通-约定回拨", "Connected – asked to call back", True, False, True),
    ("not_customer", "接通-非本人", "Connected – not the customer", True, False, False),
    ("no_answer", "无人接听", "No answer", False, False, False),
    ("busy", "占线/拒接", "Busy / rejected", False, False, False),
    ("invalid", "关机/空号", "Switched off / invalid number", False, False, False),
    ("voicemail", "语音信箱", "Voicemail", False, False, False),
]


def create(apps, schema_editor):
    Disposition = apps.get_model("leads", "Disposition")
    for order, (code, label, label_en, connected, effective, callback) in enumerate(DISPOSITIONS):
        Disposition.objects.update_or_create(
            code=code,
            defaults={
                "label": label,
                "label_en": label_en,
                "connected": connected,
                "effective": effective,
                "requests_callback": callback,
                "sort_order": (order + 1) * 10,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("leads", "0002_queues_calls")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
