"""`compliance_scan --jsonl PATH`: output format and per-line errors."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


def run(tmp_path, lines: list[str]) -> list[dict]:
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = io.StringIO()
    call_command("compliance_scan", "--jsonl", str(path), stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_output_format(tmp_path):
    rows = run(
        tmp_path,
        [
            json.dumps({"id": 1, "text": "这款产品是保本的"}, ensure_ascii=False),
            json.dumps({"id": "n-2", "text": "本产品不保本"}, ensure_ascii=False),
            json.dumps(
                {"id": 3, "text": "这款理财去年收益3.9%", "product_type": "wealth", "product_risk_level": 2},
                ensure_ascii=False,
            ),
        ],
    )
    assert rows[0] == {
        "id": 1,
        "findings": [
            {
                "rule": rows[0]["findings"][0]["rule"],
                "category": "guarantee",
                "severity": "high",
                "start": 5,
                "end": 7,
                "match": "保本",
            }
        ],
        "missing_disclosures": [],
    }
    assert rows[1] == {"id": "n-2", "findings": [], "missing_disclosures": []}
    assert rows[2]["missing_disclosures"] == ["risk_statement", "past_performance_disclaimer", "risk_level_missing"]


def test_bad_lines_give_an_error_object_and_the_rest_continue(tmp_path):
    rows = run(
        tmp_path,
        [
            "{not json",
            json.dumps({"text": "没有 id"}, ensure_ascii=False),
            json.dumps({"id": 7, "text": 42}),
            "[1, 2]",
            json.dumps({"id": 8, "text": "ok", "product_risk_level": 9}),
            "",
            json.dumps({"id": 9, "text": "稳赚不赔"}, ensure_ascii=False),
        ],
    )
    assert [r.get("line") for r in rows[:5]] == [1, 2, 3, 4, 5]
    assert all("error" in r for r in rows[:5])
    assert rows[2]["id"] == 7
    assert rows[5]["id"] == 9 and rows[5]["findings"][0]["match"] == "稳赚不赔"
    assert len(rows) == 6  # the blank line is skipped


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError):
        call_command("compliance_scan", "--jsonl", str(tmp_path / "nope.jsonl"))
