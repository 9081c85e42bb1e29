"""The one error type of the corpus generator."""

from aalbert.errors import AalbertError


class CorpusError(AalbertError):
    """Synthesis or corpus-layout problem; the message names the utterance/file and the problem."""
