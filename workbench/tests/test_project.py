"""Project-wide guarantees: migrations match the models, every catalogue is translated."""

from io import StringIO
from pathlib import Path

import polib
import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = sorted(p for p in ROOT.glob("**/locale/zh_Hans/LC_MESSAGES/django.po") if ".venv" not in p.parts)


def test_models_and_migrations_agree(db):
    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit as exc:
        pytest.fail(f"models have changes without a migration:\n{out.getvalue()}", pytrace=bool(exc))


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: str(p.relative_to(ROOT)))
def test_zh_hans_catalogue_is_complete_and_compiled(path):
    po = polib.pofile(str(path))
    untranslated = [e.msgid for e in po.untranslated_entries()]
    fuzzy = [e.msgid for e in po.fuzzy_entries()]
    assert not untranslated, f"untranslated in {path}: {untranslated[:10]}"
    assert not fuzzy, f"fuzzy in {path}: {fuzzy[:10]}"
    mo = path.with_suffix(".mo")
    assert mo.exists(), f"{mo} is missing: run compilemessages"
    compiled = {(e.msgid, e.msgstr or e.msgstr_plural.get(0, "")) for e in polib.mofile(str(mo)) if e.msgid}
    source = {(e.msgid, e.msgstr or e.msgstr_plural.get(0, "")) for e in po.translated_entries()}
    assert source <= compiled, f"{mo} is older than {path.name}: run compilemessages"
