"""Built-in corpus readers (found by name through :mod:`aalbert.corpus.registry`)."""
