"""Text the product writes once and stores, shown in each reader's language.

A notification, a job's progress message or a score's reasons are written by a service
or a worker in one request's language, and read later by people who chose Chinese or
English. They are stored in both: the bank's working language (``settings.LANGUAGE_CODE``,
in the column that always existed, which e-mails and exports use) and English beside it
(``*_en``), as scores' reasons do (``text`` and ``text_en``). Pages pick the reader's with
:func:`in_reader_language`.

Rows stored before the English column existed are given it by a data migration that
reads the Chinese back through the catalogue (:func:`english_reader`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from django.conf import settings
from django.utils import translation
from django.utils.functional import Promise

# What a service hands over: a plain string is stored as is (a person's words, or an
# exception's text), a lazy translation or a callable is worded in each language.
Words = str | Promise | Callable[[], str]


def in_both_languages(words: Words) -> tuple[str, str]:
    """``words`` in the working language and in English: ``(text, text_en)``.

    A plain string has no English beside it (``text_en`` is empty, and every reader sees
    the string as it was written)."""
    if isinstance(words, str):
        return words, ""
    texts = []
    for language in (settings.LANGUAGE_CODE, "en"):
        with translation.override(language):
            texts.append(str(words() if callable(words) else words))
    return texts[0], texts[1]


def in_reader_language(text: str, text_en: str) -> str:
    """The stored text in the language of the page being drawn."""
    if text_en and (translation.get_language() or "").startswith("en"):
        return text_en
    return text


_PLACEHOLDER = re.compile(r"%\((\w+)\)(?:\.\d+)?[sdf]")


def english_reader(msgids: Iterable[str]) -> Callable[[str], str]:
    """A function giving the English of a text that is the Chinese translation of one
    of ``msgids`` with its placeholders filled ("" when none of them reads so). A
    placeholder's value that is itself one of ``msgids`` in Chinese (a status, a
    feature's name) is put back in English too."""
    with translation.override("zh-hans"):
        pairs = sorted(((translation.gettext(m), m) for m in set(msgids)), key=lambda p: len(p[0]), reverse=True)
    plain = {zh: en for zh, en in pairs if not _PLACEHOLDER.search(en)}
    patterns = []
    for zh, en in pairs:
        parts = _PLACEHOLDER.split(zh)  # text, name, text, name, ..., text
        if len(parts) == 1 or len(set(parts[1::2])) < len(parts[1::2]):
            continue  # no placeholder (read by ``plain``), or one used twice
        pattern = "".join(
            f"(?P<{part}>.+?)" if i % 2 else re.escape(part.replace("%%", "%")) for i, part in enumerate(parts)
        )
        patterns.append((re.compile(pattern, flags=re.DOTALL), en))

    def english_of(text: str) -> str:
        if text in plain:
            return plain[text]
        for pattern, en in patterns:
            match = pattern.fullmatch(text)
            if match:
                values = {name: plain.get(value, value) for name, value in match.groupdict().items()}
                return _PLACEHOLDER.sub(lambda m, values=values: values[m.group(1)], en).replace("%%", "%")
        return ""

    return english_of
