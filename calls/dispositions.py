"""The default call-disposition taxonomy, installed by calls/migrations and editable
afterwards in the admin."""

from __future__ import annotations

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


def dispositions_install(disposition_model) -> None:
    """Create or refresh the default dispositions (``disposition_model``: the model class,
    real or a migration's historical one)."""
    for order, (code, label, label_en, connected, effective, callback) in enumerate(DISPOSITIONS):
        disposition_model.objects.update_or_create(
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
