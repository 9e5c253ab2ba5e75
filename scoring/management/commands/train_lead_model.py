"""python manage.py train_lead_model [--evaluate] [--json]

Trains a new model version on the outcomes (stratified 5-fold cross-validation, then a
fit on everything, Platt calibration), activates it if it is not worse than the active
one on the same folds, and prints the metrics.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from scoring.services.scores import rescore_start
from scoring.services.versions import model_train
from scoring.training import NotEnoughOutcomes


class Command(BaseCommand):
    help = "Train (and evaluate) the lead scoring model on the recorded outcomes."

    def add_arguments(self, parser):
        parser.add_argument("--evaluate", action="store_true", help="print the cross-validated metrics")
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.add_argument(
            "--activate",
            choices=["auto", "always", "never"],
            default="auto",
            help="auto (default): only if not worse than the active model",
        )
        parser.add_argument("--no-rescore", action="store_true", help="do not rescore customers after activation")

    def handle(self, *args, **options):
        try:
            mv, summary = model_train(activate=options["activate"])
        except NotEnoughOutcomes as exc:
            raise CommandError(f"Not enough outcomes to train: {exc}") from exc
        if summary["activated"] and not options["no_rescore"]:
            rescore_start()
            summary["rescoring"] = "queued"
        if options["json"]:
            out = (
                summary
                if options["evaluate"]
                else {k: summary[k] for k in ("model_version", "rows", "positives", "activated")}
            )
            self.stdout.write(json.dumps(out, ensure_ascii=False))
            return
        self.stdout.write(f"model {summary['model_version']}: {summary['rows']} rows, {summary['positives']} positive")
        if options["evaluate"]:
            self.stdout.write(
                f"5-fold CV: AUC {summary['auc']:.4f}, lift@10% {summary['lift_top10']:.2f}, "
                f"Brier {summary['brier']:.4f}"
            )
            if summary["active_auc_same_folds"] is not None:
                self.stdout.write(
                    f"active model's recipe on the same folds: AUC {summary['active_auc_same_folds']:.4f}"
                )
        self.stdout.write("activated" if summary["activated"] else "not activated (worse than the active model)")
        self.stdout.write("features: " + ", ".join(summary["features"]))
