import sys
from pathlib import Path

import pytest

# the tiny upstream used to train a few steps on what the readers read
sys.path.insert(0, str(Path(__file__).parents[2] / "downstream"))

from tone_corpus import make_tone_corpus  # noqa: E402


@pytest.fixture(scope="session")
def tones(tmp_path_factory):
    """3 speakers x 6 utterances of the generated tone corpus (LibriSpeech layout)."""
    return make_tone_corpus(tmp_path_factory.mktemp("tones"), speakers=3, utterances=6)
