"""Batch interface of the scanner: JSON lines in, JSON lines out.

    python manage.py compliance_scan --jsonl notes.jsonl > findings.jsonl
    cat notes.jsonl | python manage.py compliance_scan --jsonl -

Each input line is an object with ``id`` and ``text`` (and optionally ``product_type``,
``product_risk_level`` to check disclosures). Each output line is
``{"id", "findings": [{"rule", "category", "severity", "start", "end", "match"}], "missing_disclosures": [...]}``.
A line that cannot be read gives ``{"line": n, "id": ... or null, "error": "..."}`` and the
rest continue. ``start``/``end`` are offsets in Unicode characters of ``text``.
"""

from __future__ import annotations

import json
import sys
import time

from django.core.management.base import BaseCommand, CommandError

from compliance.scanner import active_scanner


class Command(BaseCommand):
    help = "Scan texts from a JSON-lines file with the active compliance lexicon; print one JSON object per line."

    def add_arguments(self, parser):
        parser.add_argument("--jsonl", required=True, help="Path of the JSON-lines file, or - for standard input.")
        parser.add_argument(
            "--summary", action="store_true", help="Print a summary (lines, errors, seconds) to stderr."
        )

    def handle(self, *args, **options):
        path = options["jsonl"]
        try:
            fh = sys.stdin if path == "-" else open(path, encoding="utf-8", errors="replace")  # noqa: SIM115
        except OSError as exc:
            raise CommandError(f"cannot open {path}: {exc}") from exc
        scanner = active_scanner()
        out = self.stdout
        started = time.perf_counter()
        lines = errors = 0
        try:
            for number, raw in enumerate(fh, start=1):
                if not raw.strip():
                    continue
                lines += 1
                record_id = None
                try:
                    obj = json.loads(raw)
                    if not isinstance(obj, dict):
                        raise ValueError("each line must be a JSON object")
                    record_id = obj.get("id")
                    if record_id is None:
                        raise ValueError('missing "id"')
                    text = obj.get("text")
                    if not isinstance(text, str):
                        raise ValueError('"text" must be a string')
                    level = obj.get("product_risk_level")
                    if level is not None and (not isinstance(level, int) or not 1 <= level <= 5):
                        raise ValueError('"product_risk_level" must be an integer 1-5')
                    result = scanner.scan(text, product_type=obj.get("product_type") or None, product_risk_level=level)
                    payload = {"id": record_id, **result.as_json()}
                except (ValueError, TypeError) as exc:  # json.JSONDecodeError is a ValueError
                    errors += 1
                    payload = {"line": number, "id": record_id, "error": str(exc)}
                out.write(json.dumps(payload, ensure_ascii=False))
        finally:
            if fh is not sys.stdin:
                fh.close()
        if options["summary"]:
            seconds = time.perf_counter() - started
            self.stderr.write(f"{lines} lines, {errors} errors, {seconds:.2f} s")
