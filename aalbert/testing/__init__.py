"""Test helpers for task and plugin authors (installed with the package; no eSpeak, no downloads).

* :func:`make_tone_corpus` writes a tiny LibriSpeech-layout corpus: speakers (with gender in
  ``SPEAKERS.TXT``), frame phone alignments (``alignment/``), phones and voices as tones.
* :class:`TinyUpstream` is a small random upstream.
* :func:`train_task` trains a task a few steps on a corpus with that upstream, in-process, and
  returns results.json's contents.

    from aalbert.testing import make_tone_corpus, train_task

    def test_my_task_learns(tmp_path):
        corpus = make_tone_corpus(tmp_path / "corpus", speakers=6)
        results = train_task("my_task", corpus, tmp_path / "exp", steps=40)
        assert results["metrics"]["test"]["accuracy"] > 0.5
"""

from __future__ import annotations

from pathlib import Path

from .fluent_commands import make_fluent_commands as make_fluent_commands  # Fluent Speech Commands layout
from .scored_corpus import make_scored_corpus
from .speech_commands import make_speech_commands as make_speech_commands  # Speech Commands layout
from .spelled_corpus import make_spelled_corpus as make_spelled_corpus  # LibriSpeech layout, letters as tones
from .tone_corpus import PHONES, SR, make_tone_corpus, speaker_gender
from .upstream import TinyUpstream
from .voxceleb import make_voxceleb1 as make_voxceleb1  # VoxCeleb1 layout: wav/, iden_split, veri_test lists

__all__ = ["PHONES", "SR", "TinyUpstream", "make_scored_corpus", "make_tone_corpus", "speaker_gender", "train_task"]


def train_task(
    task: str, corpus: str | Path, expdir: str | Path, steps: int = 40, overrides: tuple[str, ...] = (), upstream=None
) -> dict:
    """Train ``task`` for ``steps`` on ``corpus`` with a :class:`TinyUpstream` (or ``upstream``), evaluate
    the best checkpoint on test, and return the results (also written to ``expdir/results.json``).
    ``corpus`` and ``expdir`` may be ``str`` or ``Path``, with any characters in them."""
    import json

    from aalbert.downstream.experiment_config import build_config
    from aalbert.downstream.runner import Runner

    config = build_config(
        task,
        overrides=[
            # quoted (JSON is YAML): a folder named "a, b: #1" must stay one path, not YAML syntax
            f"data.roots=[{json.dumps(str(corpus))}]",
            f"runner.total_steps={steps}",
            f"runner.eval_step={max(1, steps // 2)}",
            "runner.log_step=10",
            "optimizer.lr=0.01",
            *overrides,
        ],
        upstream="tiny",
    )
    return Runner(config, expdir, upstream=upstream or TinyUpstream()).train()
