from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = _("Customers")

    # The keys of the details this app records, and the background jobs it starts.
    audit_details = {
        "file": _("file"),
        "columns": _("columns"),
        "saved_as": _("saved as"),
        "tag": _("tag"),
        "tag_id": _("tag number"),
        "dnd_until": _("do not disturb until"),
        "created": _("created"),
        "updated": _("updated"),
        "unchanged": _("unchanged"),
        "rejected": _("rejected"),
    }
    job_kinds = {
        "customers.import": _("Data import"),
        "customers.import_dry_run": _("Data import check (dry run)"),
    }

    # Every verb this app's services record in the audit log, with what it means.
    audit_verbs = {
        "customer.create": _("Customer created by hand"),
        "customer.update": _("Customer changed by hand"),
        "customer.reveal_pii": _("Full mobile or ID number revealed"),
        "customer.access_refused": _("Access to a customer refused"),
        "customer.export": _("Customer list exported"),
        "customer.tag_add": _("Manual tag added"),
        "customer.tag_remove": _("Manual tag removed"),
        "interaction.record": _("Interaction recorded"),
        "contact.opt_out": _("Customer opted out of a channel"),
        "import.upload": _("Import file uploaded"),
        "import.map": _("Import column mapping set"),
        "import.dry_run": _("Import dry run started"),
        "import.start": _("Import started"),
        "api.ingest": _("Rows received through the ingest API"),
    }

    # What each role may do with this app's models (customers/migrations grant it).
    role_permissions = {
        "advisor": {"customer": ["view"], "customertag": ["view", "add", "change"], "interaction": ["view", "add"]},
        "team_lead": {
            "customer": ["view", "change"],
            "customertag": ["view", "add", "change"],
            "interaction": ["view", "add"],
        },
        "branch_manager": {"customer": ["view"]},
        "branch_rm": {"customer": ["view"], "interaction": ["view", "add"]},
        "compliance": {"customer": ["view"], "interaction": ["view"]},
        "admin": {
            m: ["view", "add", "change"]
            for m in (
                "customer",
                "riskassessment",
                "product",
                "holding",
                "assetsnapshot",
                "tag",
                "customertag",
                "interaction",
                "contactpreference",
            )
        },
    }
    # PIPL: revealing a full mobile/ID number (advisors call the customer; team leads,
    # branch staff for referred customers, compliance); exporting personal data: team
    # leads only (administrators are superusers and hold every permission).
    custom_permissions = {
        "advisor": ["reveal_customer_pii"],
        "team_lead": ["reveal_customer_pii", "export_customers"],
        "branch_manager": ["reveal_customer_pii"],
        "branch_rm": ["reveal_customer_pii"],
        "compliance": ["reveal_customer_pii"],
    }
