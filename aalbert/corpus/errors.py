"""The one error type of the corpus generator."""


class CorpusError(RuntimeError):
    """Synthesis or corpus-layout problem; the message names the utterance/file and the problem."""
