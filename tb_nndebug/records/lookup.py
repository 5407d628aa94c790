"""Which record to read when a run holds several: pure lookups on the ``records`` object."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

#: Tag prefixes of held-out splits: never the training set's record.
HELD_OUT_PREFIXES = ("val", "test", "eval")


def primary_dataset(entries: Sequence[Mapping]) -> Mapping | None:
    """The training set's entry among a run's ``dataset`` entries.

    Tag (or document ``name``) ``"train"``, else the first not named like a
    validation/test split, else the first; None without entries. The
    diagnosis and the ``/compare`` row both judge this one.
    """
    entries = [e for e in entries if isinstance(e, Mapping)]
    if not entries:
        return None
    for e in entries:
        value = e.get("value")
        if e.get("tag") == "train" or (isinstance(value, Mapping) and value.get("name") == "train"):
            return e
    for e in entries:
        if not str(e.get("tag", "")).lower().startswith(HELD_OUT_PREFIXES):
            return e
    return entries[0]


def history_epochs(doc: Mapping, n: int) -> list[int]:
    """The Keras epochs of a training document's ``n`` history entries: its
    ``history_epochs`` when they fit, else consecutive epochs ending at its ``epoch``."""
    epochs = doc.get("history_epochs")
    if isinstance(epochs, list) and len(epochs) == n and all(
            isinstance(e, int) and not isinstance(e, bool) for e in epochs):
        return list(epochs)
    last = doc.get("epoch")
    last = last if isinstance(last, int) and not isinstance(last, bool) else n - 1
    return list(range(last - n + 1, last + 1))
