"""Records: the data contract between the writers and every reader.

- :mod:`.contract` — plugin name, record kinds and versions, encoding;
- :mod:`.documents` / :mod:`.writers` — a pure document builder and a thin
  ``tf.summary``-style writer per record kind;
- :mod:`.reading` — the one reader: event data (files or TensorBoard's data
  provider) to records, unreadable ones kept as errors;
- :mod:`.lookup` — which record of a run to read;
- :mod:`.pictures` — the images written beside the records.

Submodules are imported on use, so the pure ones (``lookup``) cost no
TensorFlow import.
"""
