"""The toolkit's one audio rate and frame grid. Every wave is 16 kHz; feature frames and label frames
are 10 ms apart, a hop of 160 samples (which label each frame takes: aalbert.corpus.frames). Plain
numbers without imports, so configs and command parsers read them without loading torch."""

SAMPLE_RATE = 16000  # Hz, of every wave an upstream or a corpus reader takes
HOP_SAMPLES = 160  # 10 ms: samples from one feature (and label) frame to the next
