"""Measure the scanner on the held-out paraphrase families and print the table:

    python manage.py compliance_evaluate
    python manage.py compliance_evaluate --fresh D5-   # new families, once, before any rule change

Rules on the held-out families, the classifier by grouped cross-validation over families,
the scanner as their union; per language and category (compliance/evaluation.py). The
figures in docs/compliance-scanner.md come from this command. Exits 1 below the gates.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from compliance.evaluation import GATE_FPR, GATE_RECALL, evaluate, evaluate_fresh


class Command(BaseCommand):
    help = "Precision, recall and false-positive rate of the scanner on held-out paraphrase families."

    def add_arguments(self, parser):
        parser.add_argument(
            "--fresh",
            metavar="PREFIX",
            help="measure new families (e.g. D5-) once, before changing any rule for them: rules as they are, "
            "the classifier trained on every other snippet; no gate",
        )

    def handle(self, *args, **options):
        if options.get("fresh"):
            self.stdout.write(evaluate_fresh(options["fresh"]).table())
            return
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
