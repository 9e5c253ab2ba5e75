"""Measure the scanner on the held-out paraphrase families and print the table:

    python manage.py compliance_evaluate

Rules on the held-out families, the classifier by grouped cross-validation over families,
the scanner as their union; per language and category (compliance/evaluation.py). The
figures in docs/compliance-scanner.md come from this command. Exits 1 below the gates.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from compliance.evaluation import GATE_FPR, GATE_RECALL, evaluate


class Command(BaseCommand):
    help = "Precision, recall and false-positive rate of the scanner on held-out paraphrase families."

    def handle(self, *args, **options):
        report = evaluate()
        self.stdout.write(report.table())
        below = [
            lang
            for (layer, lang), c in sorted(report.by_language.items())
            if layer == "scanner" and (c.recall < GATE_RECALL or c.fpr > GATE_FPR)
        ]
        if below:
            raise CommandError(
                f"below the gates (recall >= {GATE_RECALL}, false-positive rate <= {GATE_FPR}): {', '.join(below)}"
            )
