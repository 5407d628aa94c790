"""A seeded synthetic text classification set for the precision corpus.

Each class owns a small vocabulary of topic words; every document mixes a
few words of its own topic, a few strays from other topics and many filler
words every class shares. The words are made-up syllable strings, so no
corpus travels with the package and nothing is downloaded. A bag-of-words
model separates the classes well but not perfectly (the strays), which is
what a text model in a test should face.
"""
from __future__ import annotations

import numpy as np

_SYLLABLES = ("ka", "lo", "mi", "nu", "pe", "ra", "so", "ti", "vu", "xe",
              "ba", "do", "fi", "gu", "he", "ja", "ko", "li", "mo", "ne")


def _words(rng, n: int, taken: set) -> list[str]:
    """``n`` distinct pseudo-words of 2-4 syllables not in ``taken``."""
    out = []
    while len(out) < n:
        word = "".join(rng.choice(_SYLLABLES, size=rng.randint(2, 5)))
        if word not in taken:
            taken.add(word)
            out.append(word)
    return out


def make_text_classification(n_samples: int = 1500, *, n_classes: int = 3,
                             topic_words: int = 30, filler_words: int = 150,
                             length=(10, 30), p_topic: float = 0.3, p_stray: float = 0.08,
                             random_state: int = 0):
    """Short documents and their topic labels.

    Parameters
    ----------
    n_samples : int, default=1500
    n_classes : int, default=3
    topic_words : int, default=30
        Words owned by each class.
    filler_words : int, default=150
        Words shared by every class (drawn with Zipf-like frequencies).
    length : (int, int), default=(10, 30)
        Range of document lengths in words (upper bound exclusive).
    p_topic, p_stray : float
        Chance that a word comes from the document's own topic, or from
        another class's topic; the rest is filler.
    random_state : int, default=0

    Returns
    -------
    texts : list of str
    labels : numpy.ndarray of int64, shape (n_samples,)
        Balanced: class ``i % n_classes`` for sample ``i`` before shuffling.
    """
    rng = np.random.RandomState(random_state)
    taken: set = set()
    topics = [_words(rng, topic_words, taken) for _ in range(n_classes)]
    filler = _words(rng, filler_words, taken)
    weights = 1.0 / np.arange(1, filler_words + 1)
    weights /= weights.sum()
    labels = rng.permutation(np.arange(n_samples) % n_classes).astype("int64")
    texts = []
    for label in labels:
        n = rng.randint(*length)
        source = rng.choice(3, size=n, p=[p_topic, p_stray, 1.0 - p_topic - p_stray])
        words = []
        for s in source:
            if s == 0:
                words.append(topics[label][rng.randint(topic_words)])
            elif s == 1:
                other = (label + 1 + rng.randint(n_classes - 1)) % n_classes
                words.append(topics[other][rng.randint(topic_words)])
            else:
                words.append(filler[rng.choice(filler_words, p=weights)])
        texts.append(" ".join(words))
    return texts, labels
