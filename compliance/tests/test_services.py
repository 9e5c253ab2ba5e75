"""Services: the script state machine and its evidence, the lexicon, flags, QA sampling, rescans."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from compliance.constants import SENIOR_GROUP
from compliance.models import (
    Communication,
    Flag,
    FlagKind,
    FlagOutcome,
    FlagReview,
    FlagStatus,
    LexiconRule,
    ReviewAction,
    ScriptPurpose,
    ScriptReview,
    ScriptVersion,
    VersionStatus,
)
from compliance.selectors import approved_scripts_for
from compliance.services import flags as flag_services
from compliance.services import lexicon as lexicon_services
from compliance.services import qa as qa_services
from compliance.services import scripts as script_services
from compliance.services import surveillance as surveillance_services
from compliance.tests.factories import CLEAN_WEALTH_BODY
from core.models import AuditEvent, Job, JobChunk
from customers.tests.factories import ProductFactory
from org.roles import Role
from org.tests.factories import make_staff

pytestmark = pytest.mark.django_db


def draft(world, body=CLEAN_WEALTH_BODY, product=None, author=None):
    return script_services.script_create(
        actor=author or world.advisor_a,
        title="稳健理财介绍",
        purpose=ScriptPurpose.PRODUCT_INTRO,
        body=body,
        product=product or ProductFactory(risk_level=2),
    )


class TestScriptStateMachine:
    def test_submit_runs_the_check_and_records_evidence(self, world):
        v = draft(world, body="这款产品是保本的。")
        script_services.script_submit_for_review(actor=world.advisor_a, version=v)
        v.refresh_from_db()
        assert v.status == VersionStatus.SUBMITTED and v.checked_at
        findings = {(f.kind, f.code.split("-")[1] if f.kind == "lexicon" else f.code) for f in v.findings.all()}
        assert ("lexicon", "GUAR") in findings
        assert ("disclosure", "risk_statement") in findings
        assert ("disclosure", "risk_level_missing") in findings
        hit = v.findings.get(kind="lexicon")
        assert (hit.start, hit.end, hit.match, hit.severity, hit.category) == (5, 7, "保本", "high", "guarantee")
        assert hit.source  # the regulation the rule comes from
        assert list(v.reviews.values_list("action", flat=True)) == [ReviewAction.SUBMIT]
        assert AuditEvent.objects.filter(verb="script.submit", target_id=str(v.pk)).exists()
        # the compliance officer is told
        assert world.compliance.notifications.filter(event_key=f"script.submitted:{v.pk}").exists()

    def test_approval_is_blocked_by_an_open_high_finding(self, world):
        v = draft(world, body="这款产品是保本的。理财非存款、产品有风险、投资须谨慎。风险等级R2。")
        script_services.script_submit_for_review(actor=world.advisor_a, version=v)
        with pytest.raises(ValidationError) as exc:
            script_services.script_approve(actor=world.compliance, version=v, acknowledge_medium=True)
        assert exc.value.code == "blocked_by_high"
        v.refresh_from_db()
        assert v.status == VersionStatus.SUBMITTED
        assert not ScriptReview.objects.filter(version=v, action=ReviewAction.APPROVE).exists()

    def test_risk_level_mismatch_blocks_approval(self, world):
        product = ProductFactory(risk_level=3)
        v = draft(world, product=product)  # the body says R2
        script_services.script_submit_for_review(actor=world.advisor_a, version=v)
        assert v.findings.filter(code="risk_level_mismatch", severity="high").exists()
        with pytest.raises(ValidationError):
            script_services.script_approve(actor=world.compliance, version=v, acknowledge_medium=True)

    def test_medium_findings_need_explicit_acknowledgement(self, world):
        v = draft(world, body=CLEAN_WEALTH_BODY + "额度有限。")
        script_services.script_submit_for_review(actor=world.advisor_a, version=v)
        assert v.findings.filter(severity="medium").count() == 1
        with pytest.raises(ValidationError) as exc:
            script_services.script_approve(actor=world.compliance, version=v)
        assert exc.value.code == "medium_not_acknowledged"
        script_services.script_approve(actor=world.compliance, version=v, comment="可以接受", acknowledge_medium=True)
        f = v.findings.get(severity="medium")
        assert f.acknowledged_by == world.compliance and f.acknowledged_at
        actions = list(ScriptReview.objects.filter(version=v).values_list("action", "actor_id"))
        assert actions == [
            (ReviewAction.SUBMIT, world.advisor_a.pk),
            (ReviewAction.ACKNOWLEDGE, world.compliance.pk),
            (ReviewAction.APPROVE, world.compliance.pk),
        ]

    def test_reject_needs_a_comment_and_the_author_revises(self, world):
        v = draft(world, body="这款产品是保本的。")
        script_services.script_submit_for_review(actor=world.advisor_a, version=v)
        with pytest.raises(ValidationError):
            script_services.script_reject(actor=world.compliance, version=v, comment="  ")
        script_services.script_reject(actor=world.compliance, version=v, comment="删除“保本”，补充风险揭示")
        v.refresh_from_db()
        assert v.status == VersionStatus.REJECTED and v.review_comment.startswith("删除")
        ev = ScriptReview.objects.get(version=v, action=ReviewAction.REJECT)
        assert ev.actor == world.compliance and ev.comment and ev.findings_snapshot
        assert world.advisor_a.notifications.filter(event_key=f"script.rejected:{v.pk}").exists()
        v2 = script_services.script_revise(actor=world.advisor_a, script=v.script)
        assert (v2.number, v2.status, v2.based_on_id, v2.body) == (2, VersionStatus.DRAFT, v.pk, v.body)

    def test_editing_an_approved_script_keeps_the_approved_version_in_use(self, world):
        v1 = draft(world)
        script_services.script_submit_for_review(actor=world.advisor_a, version=v1)
        script_services.script_approve(actor=world.compliance, version=v1, acknowledge_medium=True)
        v2 = script_services.script_revise(actor=world.advisor_a, script=v1.script)
        assert script_services.script_revise(actor=world.advisor_a, script=v1.script) == v2  # one draft at a time
        script_services.script_version_update(
            actor=world.advisor_a, version=v2, title="新标题", body=v1.body + "谢谢。"
        )
        script_services.script_submit_for_review(actor=world.advisor_a, version=v2)
        v1.refresh_from_db()
        assert v1.status == VersionStatus.APPROVED  # still in use while v2 waits
        script_services.script_approve(actor=world.compliance, version=v2, acknowledge_medium=True)
        v1.refresh_from_db()
        assert v1.status == VersionStatus.RETIRED
        assert ScriptVersion.objects.filter(script=v1.script, status=VersionStatus.APPROVED).get() == v2

    def test_only_drafts_are_edited_and_submitted_once(self, world):
        v = draft(world)
        script_services.script_submit_for_review(actor=world.advisor_a, version=v)
        with pytest.raises(ValidationError):
            script_services.script_submit_for_review(actor=world.advisor_a, version=v)
        with pytest.raises(ValidationError):
            script_services.script_version_update(actor=world.advisor_a, version=v, title="x", body="y")
        assert ScriptReview.objects.filter(version=v).count() == 1

    def test_only_the_author_edits_or_submits(self, world):
        v = draft(world)
        with pytest.raises(PermissionDenied):
            script_services.script_version_update(actor=world.advisor_b, version=v, title="x", body="y")
        with pytest.raises(PermissionDenied):
            script_services.script_submit_for_review(actor=world.advisor_b, version=v)

    @pytest.mark.parametrize("who", ["advisor_a2", "lead_a", "admin", "manager_x"])
    def test_only_compliance_officers_decide(self, world, who):
        v = draft(world)
        script_services.script_submit_for_review(actor=world.advisor_a, version=v)
        actor = getattr(world, who)
        with pytest.raises(PermissionDenied):
            script_services.script_approve(actor=actor, version=v, acknowledge_medium=True)
        with pytest.raises(PermissionDenied):
            script_services.script_reject(actor=actor, version=v, comment="no")
        v.refresh_from_db()
        assert v.status == VersionStatus.SUBMITTED

    def test_officers_cannot_approve_their_own_script(self, world):
        v = draft(world, author=world.compliance)
        script_services.script_submit_for_review(actor=world.compliance, version=v)
        with pytest.raises(ValidationError) as exc:
            script_services.script_approve(actor=world.compliance, version=v, acknowledge_medium=True)
        assert exc.value.code == "self_approval"
        # The refusal is evidence too: audited although the approval rolled back.
        refused = AuditEvent.objects.get(verb="script.approve_refused")
        assert refused.actor == world.compliance and refused.target_id == str(v.pk)
        assert refused.details == {"refused": True, "reason": "self_approval"}
        v.refresh_from_db()
        assert v.status == VersionStatus.SUBMITTED
        other = make_staff(Role.COMPLIANCE, username="compliance2")
        script_services.script_approve(actor=other, version=v, acknowledge_medium=True)

    def test_branch_staff_cannot_propose(self, world):
        with pytest.raises(PermissionDenied):
            draft(world, author=world.manager_x)

    def test_retire_withdraws_the_script(self, world):
        v = draft(world)
        script_services.script_submit_for_review(actor=world.advisor_a, version=v)
        script_services.script_approve(actor=world.compliance, version=v, acknowledge_medium=True)
        script_services.script_retire(actor=world.compliance, version=v, comment="产品下架")
        assert approved_scripts_for(product=v.script.product) == []
        assert ScriptReview.objects.filter(version=v, action=ReviewAction.RETIRE).exists()


class TestLexicon:
    data = {
        "pattern": "包赚",
        "is_regex": False,
        "language": "zh",
        "category": "guarantee",
        "severity": "high",
        "negation_suppresses": True,
    }

    def test_create_and_update_keep_a_versioned_audited_changelog(self, world):
        rule = lexicon_services.lexicon_rule_create(actor=world.compliance, data=dict(self.data), note="投诉案例")
        assert rule.code.startswith("ZH-GUAR-") and rule.version == 1 and rule.owner == world.compliance
        lexicon_services.lexicon_rule_update(
            actor=world.compliance, rule=rule, data={"severity": "medium"}, note="降级"
        )
        rule.refresh_from_db()
        assert rule.version == 2
        history = list(rule.history.order_by("version"))
        assert [h.version for h in history] == [1, 2]
        assert history[1].changes == {"severity": ["high", "medium"]} and history[1].changed_by == world.compliance
        assert AuditEvent.objects.filter(verb="lexicon.update", target_id=str(rule.pk)).count() == 1
        # saving without a change creates no version
        lexicon_services.lexicon_rule_update(actor=world.compliance, rule=rule, data={"severity": "medium"})
        assert rule.history.count() == 2

    def test_bad_input_changes_nothing(self, world):
        n = LexiconRule.objects.count()
        for bad in ({"pattern": "("}, {"pattern": "a*"}, {"pattern": " "}):
            with pytest.raises(ValidationError):
                lexicon_services.lexicon_rule_create(
                    actor=world.compliance, data={**self.data, "is_regex": True, **bad}
                )
        with pytest.raises(ValidationError):
            lexicon_services.lexicon_rule_create(
                actor=world.compliance,
                data={**self.data, "active_from": dt.date(2026, 5, 1), "active_until": dt.date(2026, 4, 1)},
            )
        assert LexiconRule.objects.count() == n

    @pytest.mark.parametrize("who", ["advisor_a", "lead_a", "admin"])
    def test_only_compliance_edits_the_lexicon(self, world, who):
        with pytest.raises(PermissionDenied):
            lexicon_services.lexicon_rule_create(actor=getattr(world, who), data=dict(self.data))


def scan(world, object_id=1, text="我说这款产品是保本的，额度有限。", advisor=None, occurred_at=None):
    return surveillance_services.communication_scan(
        source="call_note",
        object_id=object_id,
        text=text,
        advisor_id=(advisor or world.advisor_a).pk,
        occurred_at=occurred_at or timezone.now(),
    )


class TestFlags:
    def test_scan_twice_creates_one_flag_per_communication(self, world):
        comm, created = scan(world)
        assert created == 1
        _comm, created_again = scan(world)
        assert created_again == 0
        flag = Flag.objects.get(communication=comm)
        assert [(f["match"], f["category"]) for f in flag.rule_findings] == [
            ("保本", "guarantee"),
            ("额度有限", "time_pressure"),
        ]

    def test_a_new_finding_joins_the_flag_under_review_and_a_closed_flag_is_not_reopened(self, world):
        comm, _ = scan(world, 5, text="这款产品包赢，放心")
        assert not Flag.objects.exists()
        lexicon_services.lexicon_rule_create(actor=world.compliance, data={**TestLexicon.data, "pattern": "包赢"})
        scan(world, 5, text="这款产品包赢，放心")
        flag = Flag.objects.get(communication=comm)
        flag_services.flag_close(actor=world.compliance, flag=flag, outcome=FlagOutcome.COACHING, comment="措辞")
        lexicon_services.lexicon_rule_create(actor=world.compliance, data={**TestLexicon.data, "pattern": "放心"})
        _comm, created = scan(world, 5, text="这款产品包赢，放心")
        assert created == 1  # the closed flag keeps what it was closed on; the new finding gets a new flag
        newest = Flag.objects.filter(communication=comm).order_by("-id").first()
        assert [f["match"] for f in newest.findings if f["source"] == "rule"] == ["放心"]
        assert scan(world, 5, text="这款产品包赢，放心")[1] == 0

    def test_claim_escalate_close_with_evidence(self, world):
        senior = make_staff(Role.COMPLIANCE, username="senior")
        senior.groups.add(Group.objects.get(name=SENIOR_GROUP))
        scan(world)
        flag = Flag.objects.order_by("start").first()
        flag_services.flag_claim(actor=world.compliance, flag=flag)
        with pytest.raises(ValidationError):
            flag_services.flag_escalate(actor=world.compliance, flag=flag, to_user=world.compliance, comment="x")
        with pytest.raises(ValidationError):
            flag_services.flag_escalate(actor=world.compliance, flag=flag, to_user=senior, comment="")
        flag_services.flag_escalate(actor=world.compliance, flag=flag, to_user=senior, comment="疑似误导销售")
        flag.refresh_from_db()
        assert flag.status == FlagStatus.ESCALATED and flag.escalated_to == senior
        with pytest.raises(ValidationError):  # only the senior officer may close now
            flag_services.flag_close(actor=world.compliance, flag=flag, outcome=FlagOutcome.VIOLATION, comment="确认")
        with pytest.raises(ValidationError):
            flag_services.flag_close(actor=senior, flag=flag, outcome=FlagOutcome.VIOLATION, comment="")
        escalated = senior.notifications.get(event_key=f"flag.escalated:{flag.pk}:{senior.pk}")
        assert escalated.read_at is None
        flag_services.flag_close(actor=senior, flag=flag, outcome=FlagOutcome.VIOLATION, comment="确认违规，需辅导")
        escalated.refresh_from_db()
        assert escalated.read_at is not None  # answered: no longer waiting for the senior officer
        flag.refresh_from_db()
        assert (flag.status, flag.outcome, flag.closed_by) == (FlagStatus.CLOSED, FlagOutcome.VIOLATION, senior)
        assert list(flag.reviews.values_list("action", "actor_id")) == [
            ("claim", world.compliance.pk),
            ("escalate", world.compliance.pk),
            ("close", senior.pk),
        ]
        assert world.advisor_a.notifications.filter(event_key=f"flag.closed:{flag.pk}").exists()

    def test_bulk_close_false_positives(self, world):
        scan(world, 1)
        scan(world, 2, text="别家银行的理财都不靠谱")
        ids = list(Flag.objects.values_list("pk", flat=True))
        with pytest.raises(ValidationError):
            flag_services.flags_bulk_close(actor=world.compliance, flag_ids=ids, reason=" ")
        assert flag_services.flags_bulk_close(actor=world.compliance, flag_ids=ids, reason="客户原话，非顾问陈述") == 2
        assert set(Flag.objects.values_list("status", "outcome")) == {(FlagStatus.CLOSED, FlagOutcome.NO_ISSUE)}
        assert FlagReview.objects.filter(action="bulk_close").count() == 2
        assert sorted(AuditEvent.objects.filter(verb="flag.bulk_close").get().details["ids"]) == sorted(ids)
        assert flag_services.flags_bulk_close(actor=world.compliance, flag_ids=ids, reason="again") == 0

    @pytest.mark.parametrize("who", ["advisor_a", "lead_a", "admin"])
    def test_only_compliance_closes_flags(self, world, who):
        scan(world)
        flag = Flag.objects.first()
        with pytest.raises(PermissionDenied):
            flag_services.flag_close(actor=getattr(world, who), flag=flag, outcome=FlagOutcome.NO_ISSUE, comment="x")
        with pytest.raises(PermissionDenied):
            flag_services.flags_bulk_close(actor=getattr(world, who), flag_ids=[flag.pk], reason="x")


class TestQASampling:
    def test_samples_a_share_per_advisor_once_per_week(self, world):
        qa_services.qa_config_update(actor=world.compliance, share_percent=Decimal("25"), minimum_per_advisor=1)
        monday = timezone.localdate() - dt.timedelta(days=timezone.localdate().weekday() + 7)
        at = timezone.make_aware(dt.datetime.combine(monday + dt.timedelta(days=2), dt.time(10)))
        for i in range(8):
            scan(world, 100 + i, text=f"客户回访记录{i}，一切正常。", occurred_at=at)
        for i in range(2):
            scan(world, 200 + i, text="客户回访", advisor=world.advisor_b, occurred_at=at)
        assert qa_services.qa_sample_week(week_start=monday) == 3  # ceil(25% of 8) = 2, and 1 for advisor_b
        assert qa_services.qa_sample_week(week_start=monday) == 0  # re-run: nothing new
        samples = Flag.objects.filter(kind=FlagKind.QA_SAMPLE)
        assert samples.filter(advisor=world.advisor_a).count() == 2
        assert samples.filter(advisor=world.advisor_b).count() == 1

    def test_config_bad_input(self, world):
        with pytest.raises(ValidationError):
            qa_services.qa_config_update(actor=world.compliance, share_percent=Decimal("120"), minimum_per_advisor=1)
        with pytest.raises(PermissionDenied):
            qa_services.qa_config_update(actor=world.lead_a, share_percent=Decimal("5"), minimum_per_advisor=1)


class TestRescan:
    def test_rescan_applies_a_new_rule_to_old_calls_with_progress(self, world, django_capture_on_commit_callbacks):
        old = timezone.now() - dt.timedelta(days=10)
        for i in range(3):
            scan(world, 300 + i, text="这款产品包赢，放心", occurred_at=old)
        assert not Flag.objects.exists()  # "包赢" is not in the lexicon yet
        lexicon_services.lexicon_rule_create(actor=world.compliance, data={**TestLexicon.data, "pattern": "包赢"})
        assert not Flag.objects.exists()  # lexicon changes are not retroactive by themselves
        day = timezone.localdate(old)
        with django_capture_on_commit_callbacks(execute=True):
            job = surveillance_services.rescan_start(actor=world.compliance, date_from=day, date_to=day)
        job.refresh_from_db()
        assert (job.status, job.done, job.total) == (Job.Status.SUCCEEDED, 3, 3)
        assert job.result == {"scanned": 3, "new_flags": 3}
        assert Flag.objects.filter(match="包赢").count() == 3
        # running the job again is safe
        surveillance_services.rescan_run(job_id=job.pk)
        Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING)
        surveillance_services.rescan_run(job_id=job.pk)
        assert Flag.objects.filter(match="包赢").count() == 3

    def test_a_rescan_whose_worker_died_resumes_where_it_stopped(self, world, monkeypatch):
        old = timezone.now() - dt.timedelta(days=10)
        for i in range(3):
            scan(world, 310 + i, text="这款产品包赢，放心", occurred_at=old)
        lexicon_services.lexicon_rule_create(actor=world.compliance, data={**TestLexicon.data, "pattern": "包赢"})
        day = timezone.localdate(old)
        monkeypatch.setattr(surveillance_services, "job_enqueue", lambda *args, **kwargs: None)
        job = surveillance_services.rescan_start(actor=world.compliance, date_from=day, date_to=day)
        monkeypatch.setattr(surveillance_services, "RESCAN_CHUNK", 1)
        real, calls = surveillance_services._flags_apply, {"n": 0}

        def dying(scans):
            calls["n"] += 1
            if calls["n"] == 2:
                raise SystemExit("worker killed")
            return real(scans)

        monkeypatch.setattr(surveillance_services, "_flags_apply", dying)
        with pytest.raises(SystemExit):
            surveillance_services.rescan_run(job_id=job.pk)
        assert JobChunk.objects.filter(job=job).count() == 1
        monkeypatch.setattr(surveillance_services, "_flags_apply", real)
        assert surveillance_services.rescan_run(job_id=job.pk) is None  # too soon: the job is still leased
        Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - dt.timedelta(hours=1))
        assert surveillance_services.rescan_run(job_id=job.pk) == {"scanned": 3, "new_flags": 3}
        job.refresh_from_db()
        assert job.status == Job.Status.SUCCEEDED and job.attempts == 2
        assert JobChunk.objects.filter(job=job).count() == 3
        assert Flag.objects.filter(match="包赢").count() == 3

    def test_rescan_bad_range(self, world):
        with pytest.raises(ValidationError):
            surveillance_services.rescan_start(
                actor=world.compliance, date_from=dt.date(2026, 5, 2), date_to=dt.date(2026, 5, 1)
            )
        assert not Job.objects.filter(kind="compliance.rescan").exists()
        with pytest.raises(PermissionDenied):
            surveillance_services.rescan_start(
                actor=world.lead_a, date_from=dt.date(2026, 5, 1), date_to=dt.date(2026, 5, 1)
            )


def test_communication_keeps_snapshot_independent_of_callers(world):
    comm, _ = scan(world, 9, text="原始记录：保本")
    assert Communication.objects.get(pk=comm.pk).text == "原始记录：保本"
    comm2, created = scan(world, 9, text="修改后的记录：稳赚不赔")
    assert comm2.pk == comm.pk and created == 1  # an edited text is a new text: a flag of its own
    texts = set(Flag.objects.filter(communication=comm).values_list("text_snapshot", flat=True))
    assert texts == {"原始记录：保本", "修改后的记录：稳赚不赔"}
