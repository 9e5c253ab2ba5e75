from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = _("Campaigns")

    audit_details = {
        "campaign_id": _("campaign"),
        "script": _("script"),
        "script_version": _("script version"),
        "script_versions": _("script versions in use"),
        "move": _("action"),
        "step": _("step"),
        "kind": _("kind"),
        "channel": _("channel"),
        "groups": _("condition groups"),
        "members": _("members"),
        "frozen": _("frozen members"),
        "name": _("name"),
        "priority": _("priority"),
        "segment": _("segment"),
        "product": _("product"),
        "note": _("note"),
        "fields": _("fields changed"),
        "position": _("position"),
        "lines": _("lines"),
        "skipped": _("lines skipped"),
        "sent": _("sent"),
        "retried": _("to try again"),
        "failed": _("failed"),
        "event": _("event"),
        "interaction_id": _("interaction"),
        "intents": _("intents"),
        "lead_id": _("lead"),
        "lead_intents": _("intents that open a lead"),
        "trigger": _("trigger"),
        "version": _("journey version"),
        "from_version": _("previous journey version"),
        "in_flight": _("customers in flight per step"),
        "due_hours": _("due within (hours)"),
        "wait_hours": _("wait (hours)"),
        "condition": _("condition"),
        "yes": _("if yes, go to step"),
        "no": _("if no, go to step"),
        "within": _("waits for an answer (hours)"),
        "exit_rules": _("exit criteria"),
        "control_percent": _("control group (%)"),
        "daily_entry_limit": _("new entrants a day at most"),
        "attribution_days": _("attribution window (days)"),
        "held_out_percent": _("held-out share (%)"),
        "valid_from": _("valid from"),
        "previous_draw": _("previous draw"),
        "months": _("months"),
        "variant": _("variant"),
        "weight": _("weight"),
        "before": _("before"),
        "significant": _("against the control group"),
        "uplift": _("uplift in conversion (percentage points)"),
        "p_value": _("probability of chance alone"),
        "as_of": _("results as of"),
        "uplift_keep": _("keep by predicted uplift"),
        "uplift_value": _("N or x %"),
        "order": _("order of the steps"),
        "arms": _("arms"),
    }
    # The codes the details hold, in words (the same words as the models' choices).
    audit_values = {
        # the AI-bot intents a step's lead rule or a trigger names (campaigns.models.TriggerIntent)
        "ask_fund": _("Asked about funds"),
        "ask_wealth_product": _("Asked about wealth products"),
        "ask_maturity": _("Asked about a maturity or reinvestment"),
        "ask_pension": _("Asked about pensions"),
        "ask_human": _("Asked for a human advisor"),
        "draft": _("Draft"),
        "pending_approval": _("Pending approval"),
        "scheduled": _("Scheduled"),
        "running": _("Running"),
        "paused": _("Paused"),
        "ended": _("Ended"),
        "send": _("Send a message"),
        "call_task": _("Advisor call task"),
        "wait": pgettext_lazy("journey step", "Wait"),
        "branch": _("Branch on the previous step's result"),
        "delivered": _("The message was delivered"),
        "replied": _("The customer replied"),
        "clicked": _("The customer clicked the link"),
        "reached": _("The call reached the customer"),
        "responded": _("The customer responded (replied, clicked or was reached)"),
        "opted_out": _("Opted out of marketing"),
        "left_segment": _("Left the segment"),
        "unsuitable": _("No longer suitable for the product"),
        "submit": _("Submit for approval"),
        "withdraw": _("Withdraw"),
        "approve": _("Approve the launch"),
        "return": _("Return to the author"),
        "start": _("Start"),
        "pause": _("Pause"),
        "resume": _("Resume"),
        "end": _("End"),
        "phone": _("Phone"),
        "sms": _("SMS"),
        "app_push": _("App push"),
        "wechat": _("WeChat"),
        "ai_bot": _("AI bot"),
        "email": _("E-mail"),
        # the fields a campaign edit names
        "description": _("description"),
        "starts_on": _("start date"),
        "ends_on": _("end date"),
        "audience": _("audience"),
        # receipt events
        "failed": _("Failed"),
        # trigger events and the trigger fields an edit names
        "maturity": _("A product matures within N days"),
        "outflow": _("Large outflow of assets"),
        "risk_expiry": _("Risk assessment expired or expiring within N days"),
        "birthday": _("Birthday within N days"),
        "ai_intent": _("AI-bot intent detected in the last N days"),
        "grade_high": _("Model grade crossed into high"),
        "cooling_off_ended": _("Cooling-off period ended in the last N days"),
        "dormant": _("No contact for N days"),
        "days": _("days (N)"),
        "percent": _("fall of at least (%)"),
        "amount": _("fall of at least (CNY)"),
        "window_days": _("within days (D)"),
        "intents": _("intents"),
        "entry_rule": _("entry rule"),
        "entry_days": _("at most once per (days)"),
        "active": _("active"),
        "kind": _("event"),
        # the arms of an enrolment (an outcome's campaign arm)
        "treatment": _("Treatment"),
        "control": _("Control group"),
        # a promotion's evidence (campaigns.variants.variant_promote)
        "significantly_better": _("significantly better"),
        "not_significant_confirmed": _("not significantly better, promoted after the warning"),
        # whom a segment keeps by predicted uplift (campaigns.models.UpliftKeep)
        "keep_all": _("Every member"),
        "keep_top_n": _("The N members with the highest predicted uplift"),
        "keep_top_percent": _("The top x % of members by predicted uplift"),
    }

    audit_targets = {"campaigns.holdoutreport": _("global-holdout report")}
    job_kinds = {
        "campaigns.enrol": _("Entering a campaign's segment into its journey"),
        "campaigns.train_uplift": _("Training the uplift model"),
    }
    audit_verbs = {
        "campaign.attach_script": _("Script attached to a campaign"),
        "campaign.create": _("Campaign created"),
        "campaign.update": _("Campaign edited"),
        "campaign.add_step": _("Step added to a campaign"),
        "campaign.remove_step": _("Step removed from a campaign"),
        "campaign.edit_step": _("Step of a campaign changed"),
        "campaign.move_step": _("Step of a campaign moved"),
        "campaign.journey_settings": _("Journey settings changed"),
        "campaign.journey_draft": _("New journey version drafted"),
        "campaign.journey_publish": _("New journey version published"),
        "campaign.journey_discard": _("Draft journey version discarded"),
        "campaign.transition": _("Campaign status changed"),
        "segment.save": _("Segment saved"),
        "segment.upload": _("Segment uploaded from a list"),
        "segment.freeze": _("Segment frozen"),
        "message.dispatch": _("Messages dispatched"),
        "message.receipt": _("Message receipt recorded"),
        "message.bot_session": _("AI-bot session of a message recorded"),
        "campaign.set_trigger": _("Campaign trigger set"),
        "campaign.holdout_redraw": _("Global holdout re-drawn"),
        "campaign.holdout_report_export": _("Global-holdout report exported"),
        "campaign.variant_add": _("A/B variant added to a campaign"),
        "campaign.variant_edit": _("A/B variant of a campaign changed"),
        "campaign.variant_remove": _("A/B variant removed from a campaign"),
        "campaign.variant_step": _("Step of an A/B variant changed"),
        "campaign.variant_promote": _("A/B variant promoted to take every new entrant"),
        "campaign.variant_order": _("Order of the steps of an A/B variant changed"),
        "campaign.results_export": _("Campaign results exported"),
        "segment.uplift": _("Segment set to keep its members by predicted uplift"),
    }
    role_permissions = {
        "advisor": {"campaign": ["view"]},
        "team_lead": {"campaign": ["view"]},
        "compliance": {"campaign": ["view"], "segment": ["view"]},
        "campaign_manager": {"campaign": ["view", "add", "change"], "segment": ["view", "add", "change"]},
        "admin": {"campaign": ["view", "add", "change"], "segment": ["view", "add", "change"]},
    }
    # A launch is approved by a second person: another campaign manager or a team lead.
    custom_permissions = {
        "campaign_manager": ["approve_campaign_launch"],
        "team_lead": ["approve_campaign_launch"],
    }

    def ready(self) -> None:
        # The customer list's campaign conditions (customers.extensions.LIST_FILTERS) name
        # models: register once the apps are loaded (the one import inside a function
        # docs/architecture.md allows).
        from . import list_filters

        list_filters.register()
