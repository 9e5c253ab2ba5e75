"""python manage.py import_outcomes PATH --mapping MAPPING.json

Loads a historical campaign extract (CSV, comma or semicolon, UTF-8 or GBK) as
outcomes to train on, and prints a JSON summary. See scoring/importing.py.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from scoring.importing import MappingError, mapping_from_file, outcomes_import


class Command(BaseCommand):
    help = "Import historical call outcomes (CSV) to train the lead model on."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--mapping", required=True, help="JSON mapping file")

    def handle(self, *args, **options):
        try:
            summary = outcomes_import(path=options["path"], mapping=mapping_from_file(options["mapping"]))
        except (MappingError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps(summary, ensure_ascii=False))
