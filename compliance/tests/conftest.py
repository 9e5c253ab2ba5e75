"""The default lexicon and the senior-officer group come from a data migration; transactional
tests (the browser journey, other apps' live-server tests) flush the tables, so restore
them before each database test of this app."""

import pytest
from django.contrib.auth.models import Group

from compliance.constants import SENIOR_GROUP
from compliance.lexicon_data import concept_groups_load_defaults, lexicon_load_defaults
from compliance.models import ConceptGroup, LexiconRule, LexiconRuleVersion


@pytest.fixture(autouse=True)
def default_lexicon(request):
    marker = request.node.get_closest_marker("django_db")
    if marker is None and not {"db", "world", "transactional_db"} & set(request.fixturenames):
        return  # a test without the database (the scanner on the default specs)
    transactional = marker is not None and marker.kwargs.get("transaction")
    request.getfixturevalue("transactional_db" if transactional else "db")
    if not LexiconRule.objects.exists():
        lexicon_load_defaults(LexiconRule, LexiconRuleVersion)
    if not ConceptGroup.objects.exists():
        concept_groups_load_defaults(ConceptGroup)
    Group.objects.get_or_create(name=SENIOR_GROUP)
