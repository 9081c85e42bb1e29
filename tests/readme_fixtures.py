"""Toy stand-ins for what README.md's commands name: corpora in every format, a checkpoint, a hub cache.

README commands read ``/data/LibriSpeech``, ``/data/TIMIT``, Kaldi dirs, Lhotse manifests, MFA
TextGrids, phone transcripts, ``data/synth40``, an upstream checkpoint (``CKPT``) and the
published ``aalbert`` model. :func:`build_readme_fixtures` writes small versions of all of them
under one folder: every corpus is the generated tone corpus (tests/tone_corpus.py) written in
that layout by tests/corpus_layouts.py, so the downstream tests' readers see the same utterances.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from corpus_layouts import tone_segments, write_kaldi, write_lhotse, write_textgrids, write_timit
from tone_corpus import make_tone_corpus

REPO = Path(__file__).resolve().parents[1]
# 4 speakers: 100-102 train (LibriSpeech train-clean-100, TIMIT TRAIN, Kaldi train), 103 held out
# (dev-clean, TEST, Kaldi test)
TRAIN_SPEAKERS, HELD_OUT_SPEAKERS = ["100", "101", "102"], ["103"]
# data/synth40 at toy size; the README's synth command is rewritten to these (tests/test_readme.py)
# so that it finds this corpus complete and reuses it
SYNTH_TOY = {"speakers": 4, "utterances": 3, "seed": 0, "min_words": 2, "max_words": 4}
# the 2-step pretraining that makes the toy checkpoint: the tiny recipe, shrunk
PRETRAIN_TOY = (
    "runner.total_steps=2,runner.save_step=2,runner.image_step=0,runner.batch_size=2,runner.num_workers=0,"
    "model.hidden_size=32,model.intermediate_size=64,model.num_attention_heads=2"
)


@dataclass
class ReadmeFixtures:
    data: Path  # stands for the README's /data (the same sub-paths)
    synth40: Path  # stands for data/synth40
    ckpt: Path  # stands for CKPT and result/pretrain/tiny/states-N.ckpt
    torch_home: Path  # TORCH_HOME whose hub cache holds `aalbert` (use with AALBERT_OFFLINE=1)


def build_readme_fixtures(root: Path) -> ReadmeFixtures:
    from aalbert.corpus import synthesize

    data = build_data(root / "data")
    synth40 = synthesize(
        root / "synth40",
        speakers=SYNTH_TOY["speakers"],
        utterances=SYNTH_TOY["utterances"],
        seed=SYNTH_TOY["seed"],
        words_per_utterance=(SYNTH_TOY["min_words"], SYNTH_TOY["max_words"]),
        progress=False,
    )
    ckpt = toy_checkpoint(root / "pretrain", data / "LibriSpeech" / "dev-clean")
    torch_home = root / "torch"
    prefill_hub_cache(torch_home, "aalbert", ckpt)
    return ReadmeFixtures(data=data, synth40=synth40, ckpt=ckpt, torch_home=torch_home)


def build_data(data: Path) -> Path:
    """``data/`` with the sub-paths the README's ``/data/...`` placeholders name."""
    tones = make_tone_corpus(data.parent / "tones", speakers=4, utterances=6)
    segments = tone_segments(tones)
    uttids = sorted(segments)
    held_out = [u for u in uttids if u.split("-")[0] in HELD_OUT_SPEAKERS]
    # LibriSpeech: subsets train-clean-100 and dev-clean, s3prl alignments in ROOT/alignment
    libri = data / "LibriSpeech"
    shutil.copytree(tones, libri, ignore=shutil.ignore_patterns("tone_segments.json"))
    (libri / "train-tiny").rename(libri / "train-clean-100")
    (libri / "dev-clean").mkdir()
    for speaker in HELD_OUT_SPEAKERS:
        (libri / "train-clean-100" / speaker).rename(libri / "dev-clean" / speaker)
    write_timit(tones, data / "TIMIT", parts={"TRAIN": TRAIN_SPEAKERS, "TEST": HELD_OUT_SPEAKERS})
    # Kaldi: words are the tones' phone names, spelled by a lexicon
    words = {u: " ".join(p.upper() for _, _, p in segs if p != "sil") for u, segs in segments.items()}
    write_kaldi(tones, data / "corpus" / "train", uttids=[u for u in uttids if u not in held_out], text=words)
    write_kaldi(tones, data / "corpus" / "test", uttids=held_out, text=words)
    phones = sorted({p for segs in segments.values() for _, _, p in segs if p != "sil"})
    (data / "corpus" / "lexicon.txt").write_text("".join(f"{p.upper()} {p}\n" for p in phones))
    write_textgrids(tones, data / "mfa_output")
    manifests = write_lhotse(tones, data / "manifests", as_cuts=True)
    (manifests / "tone_cuts.jsonl.gz").rename(manifests / "librispeech_cuts_train-clean-100.jsonl.gz")
    (data / "phones.txt").write_text(
        "".join(f"{u} {' '.join(p for _, _, p in segs if p != 'sil')}\n" for u, segs in segments.items())
    )
    return data


def toy_checkpoint(expdir: Path, corpus: Path) -> Path:
    """The tiny recipe pretrained 2 steps (3 layers sharing one weight group, hidden 32): ``-u aalbert``."""
    from aalbert.pretrain.cli import main

    code = main(
        [
            "-u",
            "aalbert",
            "-c",
            str(REPO / "config" / "pretrain" / "tiny.yaml"),
            "--expdir",
            str(expdir),
            "-o",
            f"data.roots=[{corpus}]",
            "-o",
            PRETRAIN_TOY,
            "--device",
            "cpu",
            "--no-progress",
        ]
    )
    ckpt = expdir / "states-2.ckpt"
    assert code == 0 and ckpt.is_file(), f"the toy pretraining failed (exit {code}) or wrote no {ckpt}"
    return ckpt


def prefill_hub_cache(torch_home: Path, name: str, ckpt: Path) -> Path:
    """Place ``ckpt`` where the published model ``name`` is cached, as a person may do by hand offline
    (aalbert.download records its sha256 on first use): with ``AALBERT_OFFLINE=1`` nothing is downloaded."""
    from aalbert.upstream.pretrained import find_pretrained

    path = find_pretrained(name).cache_path(torch_home / "hub")
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ckpt, path)
    return path
