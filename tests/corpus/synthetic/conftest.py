import pytest

from aalbert.corpus import synthesize


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory):
    """3 speakers x 4 short utterances, generated once per test session."""
    return synthesize(
        tmp_path_factory.mktemp("corpus") / "tiny",
        speakers=3,
        utterances=4,
        seed=7,
        words_per_utterance=(3, 6),
        workers=2,
        progress=False,
    )
