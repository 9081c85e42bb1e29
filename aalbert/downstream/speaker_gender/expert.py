"""speaker_gender: the speaker's gender from the corpus's speaker metadata (LibriSpeech
SPEAKERS.TXT, Kaldi spk2gender, Lhotse supervisions), on voices never heard in training.

Built only from the reusable utterance classifier: what it reads (its label and split) is all it says.
"""

from aalbert.downstream.task_labels import speaker_field
from aalbert.downstream.utterance_classifier import UtteranceClassifierExpert


class Expert(UtteranceClassifierExpert):
    labels = (speaker_field("gender"),)
    # required, not just a default: gender tested on a voice heard in training measures memory
    split_policy = "disjoint_speakers"
