"""Fill a .po catalogue from a JSON mapping {msgid: msgstr} (or {msgid: [singular, plural]}).

Usage: python scripts/fill_po.py path/to/django.po translations.json
Entries already translated are kept unless the mapping names them; fuzzy flags of the
filled entries are cleared. Prints the msgids still untranslated.
"""

import json
import sys

import polib


def main(po_path: str, mapping_path: str) -> int:
    po = polib.pofile(po_path)
    with open(mapping_path, encoding="utf-8") as fh:
        mapping = json.load(fh)
    for entry in po:
        if entry.obsolete or entry.msgid not in mapping:
            continue
        value = mapping[entry.msgid]
        if entry.msgid_plural:
            values = value if isinstance(value, list) else [value, value]
            entry.msgstr_plural = {0: values[0]} if len(values) == 1 else {0: values[0]}
        else:
            entry.msgstr = value
        if "fuzzy" in entry.flags:
            entry.flags.remove("fuzzy")
    po.save(po_path)
    missing = [e.msgid for e in po if not e.obsolete and not e.translated()]
    for msgid in missing:
        print("untranslated:", msgid)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
