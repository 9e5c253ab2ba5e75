"""One English word, one Chinese word: the apps' catalogues do not contradict each other.

Django merges every catalogue into one: LOCALE_PATHS first, then the apps in the order of
INSTALLED_APPS (the first app wins), so a msgid that two apps translate differently shows
the winner's word on the loser's page too ("Outcome" read the review's 结论 on the call
list). Where two apps mean different things by one English word, the source gives the
string a context (pgettext) or a more specific msgid; otherwise the catalogues agree.
"""

from collections import defaultdict
from pathlib import Path

import polib
from django.utils import translation

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = sorted(p for p in ROOT.glob("**/locale/zh_Hans/LC_MESSAGES/django.po") if ".venv" not in p.parts)


def _catalogue_name(path: Path) -> str:
    parts = path.relative_to(ROOT).parts
    return "project locale" if parts[0] == "locale" else parts[0]


def _entries():
    for path in CATALOGUES:
        for entry in polib.pofile(str(path)):
            if entry.obsolete or "fuzzy" in entry.flags:
                continue
            word = entry.msgstr or entry.msgstr_plural.get(0, "")
            if word:
                yield _catalogue_name(path), entry, word


def test_the_catalogues_are_found():
    names = {_catalogue_name(p) for p in CATALOGUES}
    assert {"project locale", "core", "customers", "compliance", "calls", "referrals"} <= names


def test_a_msgid_without_context_has_one_word_in_every_catalogue():
    words: dict[str, dict[str, str]] = defaultdict(dict)
    for app, entry, word in _entries():
        if not entry.msgctxt:
            words[entry.msgid][app] = word
    conflicts = {msgid: by_app for msgid, by_app in words.items() if len(set(by_app.values())) > 1}
    assert not conflicts, "one msgid, different words (give it a context or agree on one word):\n" + "\n".join(
        f"  {msgid!r}: {by_app}" for msgid, by_app in sorted(conflicts.items())
    )


def test_every_catalogue_word_is_the_word_shown():
    # Catches the same collision with a third-party catalogue too: django.contrib.admin,
    # DRF and django-tables2 come before the project's apps in INSTALLED_APPS, so their
    # word wins ("previous" in the audit details read django-tables2's 上一页).
    wrong = []
    with translation.override("zh-hans"):
        for app, entry, word in _entries():
            if entry.msgid_plural:
                shown = (
                    translation.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, 1)
                    if entry.msgctxt
                    else translation.ngettext(entry.msgid, entry.msgid_plural, 1)
                )
            elif entry.msgctxt:
                shown = translation.pgettext(entry.msgctxt, entry.msgid)
            else:
                shown = translation.gettext(entry.msgid)
            if shown.strip() != word.strip():
                wrong.append(f"  {app}: {entry.msgctxt or ''}|{entry.msgid!r} is {word!r} but shows {shown!r}")
    assert not wrong, "a catalogue's word is overridden by another catalogue:\n" + "\n".join(wrong)
