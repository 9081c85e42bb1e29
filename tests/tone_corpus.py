"""The generated tone corpus now lives in the package (aalbert.testing); re-exported for the tests."""

from aalbert.testing.tone_corpus import (  # noqa: F401
    GENDER_TONES,
    PHONE_TONES,
    PHONES,
    SPEAKER_TONES,
    SR,
    make_tone_corpus,
    speaker_gender,
)
