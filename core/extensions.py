"""Extension points: places on a lower app's page that the apps above fill.

A lower app cannot import the apps above it, yet some of its pages show what they know
(the customer portrait shows the customer's score, leads and referrals; a referral
shows the advisor's calls). The lower app declares a :class:`Slot`; each app above
registers what it contributes from its ``AppConfig.ready()``. The lower app renders
whatever is registered and never learns who filled it, so the import graph stays one
way. Registration happens once at start-up; entries are kept in ``order``.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Slot:
    name: str
    _entries: list = field(default_factory=list, repr=False)

    def register(self, entry) -> None:
        """Add ``entry`` (a dataclass of the slot's kind with ``key`` and ``order``);
        registering the same key again replaces it, so a reloaded app does not add twice."""
        self._entries = [e for e in self._entries if e.key != entry.key]
        self._entries.append(entry)
        self._entries.sort(key=lambda e: (e.order, e.key))

    def entries(self) -> list:
        return list(self._entries)

    def get(self, key: str):
        return next((e for e in self._entries if e.key == key), None)
