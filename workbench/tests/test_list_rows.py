"""The jobs page and the audit log write their rows from prepared text (issue 15): the
same columns and words as their tables' columns, in both languages, and the same
queries for a few rows or many."""

import re

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation

from core.audit import audit_record
from core.models import Job

ROW = re.compile(r"<tr[^>]*>(.*?)</tr>", re.S)
CELL = re.compile(r"<td[^>]*>(.*?)</td>", re.S)


def _rows(html: str) -> list[list[str]]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [[c.strip() for c in CELL.findall(r)] for r in ROW.findall(body)]


def _jobs(world, n: int) -> list[Job]:
    made = []
    for i in range(n):
        status = [Job.Status.SUCCEEDED, Job.Status.FAILED, Job.Status.RUNNING][i % 3]
        made.append(
            Job.objects.create(
                kind="customers.import" if i % 2 else "not.a.declared.kind",
                status=status,
                total=200,
                done=200 if status == Job.Status.SUCCEEDED else 50,
                message="文件无法读取" if status != Job.Status.SUCCEEDED else "已完成一步",
                message_en="The file could not be read" if status != Job.Status.SUCCEEDED else "A step done",
                created_by=world.lead_a if i % 2 else None,
                finished_at=timezone.now() if status != Job.Status.RUNNING else None,
            )
        )
    return made


@pytest.mark.parametrize("n", [3, 13])
def test_jobs_page_queries_do_not_grow_with_its_rows(world, client_for, django_assert_num_queries, n):
    _jobs(world, n)
    client = client_for(world.admin)
    client.get(reverse("workbench:jobs"))
    # session, user, profile, the capped count, the page's jobs with who started them
    with django_assert_num_queries(5):
        html = client.get(reverse("workbench:jobs")).content.decode()
    assert len(_rows(html)) == n


def test_jobs_rows_keep_every_column_and_word(world, client_for):
    succeeded, failed, running = _jobs(world, 3)
    client = client_for(world.admin)
    rows = {int(r[0]): r for r in _rows(client.get(reverse("workbench:jobs")).content.decode())}
    assert set(rows) == {succeeded.pk, failed.pk, running.pk} and all(len(r) == 8 for r in rows.values())
    with translation.override("zh-hans"):
        words = {s: str(s.label) for s in Job.Status}
        imports = str(translation.gettext("Data import"))
        system = translation.gettext("System")
    minute = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d")
    s, f, r = rows[succeeded.pk], rows[failed.pk], rows[running.pk]
    assert s[1] == "not.a.declared.kind" and f[1] == imports  # an undeclared kind shows its code
    assert (s[2], f[2], r[2]) == (words[Job.Status.SUCCEEDED], words[Job.Status.FAILED], words[Job.Status.RUNNING])
    # the progress cell is the fragment the bar polls itself with; a running one polls
    assert f'id="job-{running.pk}"' in r[3] and "hx-trigger" in r[3] and "25%" in r[3]
    assert f'id="job-{succeeded.pk}"' in s[3] and "hx-trigger" not in s[3] and "100%" in s[3]
    # the message: none once succeeded, the reason when failed, the step while running
    assert (s[4], f[4], r[4]) == ("—", "文件无法读取", "文件无法读取")
    assert (s[5], f[5]) == (system, world.lead_a.staff_profile.display_name)
    assert minute.fullmatch(s[6]) and minute.fullmatch(f[7]) and r[7] == "—"
    english = client_for(world.admin)
    english.cookies["django_language"] = "en"
    en = {int(r[0]): r for r in _rows(english.get(reverse("workbench:jobs")).content.decode())}
    assert en[failed.pk][1:3] == ["Data import", "Failed"] and en[failed.pk][4] == "The file could not be read"
    assert en[succeeded.pk][5] == "System"


def test_jobs_page_without_jobs_says_so(world, client_for):
    html = client_for(world.admin).get(reverse("workbench:jobs")).content.decode()
    assert "后台任务" in html and '<td colspan="8">' in html


def test_audit_rows_keep_every_column_and_word(world, client_for):
    with transaction.atomic():
        audit_record(
            actor=world.advisor_a,
            verb="customer.tag_add",
            target_type="customers.customer",
            target_id=7,
            details={"tag": "理财", "count": 2},
        )
        audit_record(actor=None, verb="an.undeclared.verb", target_type="", target_id="ABC")
    client = client_for(world.compliance)
    rows = _rows(client.get(reverse("workbench:audit")).content.decode())
    assert all(len(r) == 6 for r in rows)
    system, tagged = rows[0], rows[1]  # newest first
    second = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
    assert second.fullmatch(system[0]) and second.fullmatch(tagged[0])
    assert system[1:] == ["系统", "an.undeclared.verb", "—", "—", "—"]
    assert tagged[1] == "王顾问" and tagged[3] == "客户 #7" and tagged[4] == "标签：理财；数量：2"
    english = client_for(world.compliance)
    english.cookies["django_language"] = "en"
    en = _rows(english.get(reverse("workbench:audit")).content.decode())
    assert en[0][1] == "System" and en[1][3] == "Customer #7" and en[1][4] == "tag: 理财; count: 2"
