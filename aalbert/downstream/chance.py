"""Chance level of a classification label, computed from the corpus a run used: what a classifier
scores that always answers the training split's most frequent class (the majority-class baseline),
on each split, beside 1 / number of classes.

Phones are counted per 10 ms frame (the alignments' rate; an upstream that stacks frames votes
labels in groups, aalbert.downstream.data.labels, which moves the share by a fraction of a point),
utterance labels (speaker, speaker.FIELD, utterance.FIELD) per utterance, as the tasks' accuracies
count them, frame labels of your own (frame.NAME) per 10 ms frame. A sequence (CTC, scored by error
rate) or a numeric label (regression) has no such baseline.
"""

from __future__ import annotations

from collections import Counter

from .data import Corpus
from .task_labels import FRAME, FRAME_PHONES, SPEAKER, label_names, metadata_value, parse_label

RULE = "majority"


def _counts(corpus: Corpus, label: str, split: str) -> Counter:
    kind = parse_label(label).kind
    utterances = corpus.splits.get(split, [])
    if kind == FRAME:
        names = corpus.label_classes.get(label, [])
        return Counter(names[i] for u in utterances for i in u.labels.get(label, []))
    if kind == FRAME_PHONES:
        names = corpus.phone_names or []
        return Counter(names[p] if 0 <= p < len(names) else str(p) for u in utterances for p in (u.phones or []))
    if kind == SPEAKER:
        return Counter(u.speaker for u in utterances)
    return Counter(v for u in utterances if (v := metadata_value(corpus, label, u.uttid, u.speaker)) is not None)


def chance_levels(corpus: Corpus, label: str) -> dict | None:
    """``{"rule", "class", "unit", "classes", "uniform", "train", "dev", "test"}``: the share of
    each split's frames or utterances that train's majority class holds; None for a label without a
    majority baseline (phone sequences) or a corpus without training labels."""
    spec = parse_label(label)
    if spec.is_sequence or spec.numeric:  # scored by error rate or correlation: no majority class
        return None
    train = _counts(corpus, label, "train")
    if not train:
        return None
    # most frequent; ties go to the first name in sorted order, so the baseline is reproducible
    majority = min(train, key=lambda name: (-train[name], name))
    classes = len(label_names(corpus, label)) or len(train)
    out: dict = {
        "rule": RULE,
        "label": label,
        "class": majority,
        "unit": "10 ms frame" if spec.is_frames else "utterance",
        "classes": classes,
        "uniform": 1.0 / classes,
    }
    for split in ("train", "dev", "test"):
        counts = _counts(corpus, label, split)
        total = sum(counts.values())
        out[split] = counts[majority] / total if total else None
    return out
