"""A frozen upstream's features cached once per utterance: same training, far fewer upstream runs."""

import json

import pytest
import torch
from downstream_fakes import FakeUpstream

from aalbert.audio import load_audio
from aalbert.downstream.experiment_config import build_config
from aalbert.downstream.feature_cache import FeatureCache, cache_manifest, fill_cache
from aalbert.downstream.runner import Runner


class CountingUpstream(FakeUpstream):
    """FakeUpstream that counts the utterances it has been run on."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.utterances_seen = 0

    def forward(self, wavs):
        self.utterances_seen += len(wavs)
        return super().forward(wavs)


def _runner(task, corpus, expdir, cache="none", upstream=None, extra=()):
    cfg = build_config(
        task,
        overrides=[
            f"data.roots=[{corpus}]",
            "runner.total_steps=40",
            "runner.eval_step=20",
            "runner.log_step=10",
            "model.hidden_size=32",
            "optimizer.lr=0.01",
            f"runner.feature_cache={cache}",
            *extra,
        ],
        upstream="fake",
    )
    return Runner(cfg, expdir, upstream=upstream or CountingUpstream())


def _utterances(runner):
    return sum(len(v) for v in runner.corpus.splits.values())


@pytest.mark.parametrize("task", ["phone_linear", "speaker_utterance"])
def test_memory_cache_trains_the_same_model_with_one_upstream_pass(task, tone_corpus, tmp_path):
    plain = _runner(task, tone_corpus, tmp_path / "plain")
    plain_results = plain.train()
    cached = _runner(task, tone_corpus, tmp_path / "cached", cache="memory")
    cached_results = cached.train()

    # the upstream saw every utterance exactly once, instead of once per step and evaluation
    assert cached.model.upstream.utterances_seen == _utterances(cached)
    assert plain.model.upstream.utterances_seen > 4 * _utterances(plain)
    # and training followed the same path: same weights, same metrics
    for key, value in plain.model.expert.state_dict().items():
        assert torch.allclose(value, cached.model.expert.state_dict()[key], atol=1e-4), key
    assert torch.allclose(plain.model.featurizer.weights, cached.model.featurizer.weights, atol=1e-4)
    assert cached_results["metrics"]["test"]["accuracy"] == pytest.approx(plain_results["metrics"]["test"]["accuracy"])


def test_disk_cache_is_shared_by_tasks_and_reextracts_only_what_is_missing(tone_corpus, tmp_path):
    cache_dir = tmp_path / "features"
    phone = _runner("phone_linear", tone_corpus, tmp_path / "phone", cache=str(cache_dir))
    phone.train()
    assert phone.model.upstream.utterances_seen == _utterances(phone) == 29  # 100-7-0003 has no alignment
    assert len(list(cache_dir.glob("*/layer_02/*.pt"))) == 29

    # the speaker task also uses the unaligned utterance: only that one is new
    speaker = _runner("speaker_utterance", tone_corpus, tmp_path / "speaker", cache=str(cache_dir))
    speaker.train()
    assert speaker.model.upstream.utterances_seen == 1
    assert speaker.model.upstream.utterances_seen + 29 == _utterances(speaker)

    # another upstream (here: another seed for a random hub model) must not read those features
    other = _runner("speaker_utterance", tone_corpus, tmp_path / "other", cache=str(cache_dir), extra=["seed=7"])
    other.cache_features(("train", "dev", "test"))
    assert other.model.upstream.utterances_seen == _utterances(other) == 30


def test_cached_batches_are_zero_padded_valid_frames(tone_corpus, tmp_path):
    runner = _runner("speaker_utterance", tone_corpus, tmp_path / "exp", cache="memory")
    runner.cache_features(("train",))
    utts = runner.corpus.splits["train"][:3]
    hidden, lengths = runner.model.feature_cache.padded([u.uttid for u in utts])
    assert len(hidden) == 3 and all(h.shape == (3, int(lengths.max()), 32) for h in hidden)
    with torch.no_grad():
        alone = FakeUpstream().eval()([load_audio(utts[1].path)])
    n = int(lengths[1])
    assert torch.allclose(hidden[2][1, :n], alone["hidden_states"][2][0, :n], atol=1e-5)
    assert hidden[2][1, n:].abs().sum() == 0


def test_cache_refuses_a_finetuned_upstream(tone_corpus, tmp_path):
    from aalbert.config import ConfigError

    with pytest.raises(ConfigError, match="needs a frozen upstream"):
        _runner("phone_linear", tone_corpus, tmp_path / "exp", cache="memory", extra=["finetune=true"])


def test_disk_cache_files_are_complete_or_absent(tone_corpus, tmp_path):
    runner = _runner("speaker_utterance", tone_corpus, tmp_path / "exp")
    utts = runner.corpus.splits["dev"]
    cache = FeatureCache(3, tmp_path / "c")
    manifest = cache_manifest("fake", None, 0, "none")

    class Crashing(CountingUpstream):
        def forward(self, wavs):
            if self.utterances_seen:
                raise RuntimeError("killed")
            return super().forward(wavs)

    with pytest.raises(RuntimeError, match="killed"):
        fill_cache(Crashing(), utts, cache, manifest, batch_size=1, progress=False)
    assert not list((tmp_path / "c").rglob("*.tmp"))  # no half-written file left behind
    assert sum(cache.has(u.uttid) for u in utts) == 1
    resumed = CountingUpstream()
    assert fill_cache(resumed, utts, cache, manifest, batch_size=1, progress=False) == len(utts) - 1
    assert resumed.utterances_seen == len(utts) - 1 and cache.complete(u.uttid for u in utts)


def _overwrite_with_noise(corpus):
    """Replace every audio file in place by noise of the same length (same path, same size class)."""
    import numpy as np
    import soundfile

    rng = np.random.default_rng(0)
    for path in corpus.rglob("*.flac"):
        n = soundfile.info(str(path)).frames
        soundfile.write(path, (0.1 * rng.standard_normal(n)).astype(np.float32), 16000)


def test_audio_overwritten_in_place_is_extracted_again(tone_corpus, tmp_path):
    """The stale-features scenario: same paths, same lengths, other sounds."""
    import shutil

    corpus = tmp_path / "corpus"
    shutil.copytree(tone_corpus, corpus)
    cache_dir = tmp_path / "features"
    exact = ["runner.feature_cache_dtype=float32"]  # compared below with a memory cache, bit for bit
    first = _runner("speaker_utterance", corpus, tmp_path / "a", cache=str(cache_dir), extra=exact)
    first.cache_features(("train", "dev", "test"))
    assert first.model.upstream.utterances_seen == 30
    _overwrite_with_noise(corpus)
    stale = _runner("speaker_utterance", corpus, tmp_path / "b", cache=str(cache_dir), extra=exact)
    stale.cache_features(("train", "dev", "test"))
    assert stale.model.upstream.utterances_seen == 30  # every utterance extracted again
    fresh = _runner("speaker_utterance", corpus, tmp_path / "c", cache="memory")
    fresh.cache_features(("train", "dev", "test"))
    ids = [u.uttid for u in fresh.corpus.splits["test"]]
    for a, b in zip(stale.model.feature_cache.padded(ids)[0], fresh.model.feature_cache.padded(ids)[0]):
        assert torch.equal(a, b)


def test_a_folder_with_foreign_files_is_refused_and_left_intact(tone_corpus, tmp_path):
    from aalbert.config import ConfigError

    folder = tmp_path / "mine"
    (folder / "layer_00").mkdir(parents=True)
    (folder / "layer_00" / "thesis.tex").write_text("do not delete")
    (folder / "notes.txt").write_text("mine too")
    runner = _runner("speaker_utterance", tone_corpus, tmp_path / "exp", cache=str(folder))
    with pytest.raises(ConfigError, match="did not write.*left untouched"):
        runner.cache_features(("dev",))
    assert (folder / "layer_00" / "thesis.tex").read_text() == "do not delete"
    # the layout of an older aalbert is recognised and also left as it is
    old = tmp_path / "old"
    (old / "layer_00").mkdir(parents=True)
    (old / "layer_00" / "u.pt").write_bytes(b"x")
    (old / "manifest.json").write_text("{}")
    with pytest.raises(ConfigError, match="layout of an older aalbert"):
        _runner("speaker_utterance", tone_corpus, tmp_path / "exp2", cache=str(old)).cache_features(("dev",))
    assert (old / "layer_00" / "u.pt").is_file()


def test_two_upstreams_share_a_folder_concurrently(tone_corpus, tmp_path):
    import threading

    cache_dir = tmp_path / "features"
    runs = {
        seed: _runner(
            "speaker_utterance",
            tone_corpus,
            tmp_path / f"exp{seed}",
            cache=str(cache_dir),
            extra=[f"seed={seed}", "runner.total_steps=6", "runner.eval_step=6"],
        )
        for seed in (1, 2)
    }
    errors = []

    def train(runner):
        try:
            runner.train()
        except Exception as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=train, args=(r,)) for r in runs.values()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len([p for p in cache_dir.iterdir() if p.is_dir()]) == 2  # one sub-folder per upstream
    # each equals what a private cache gives
    for seed in runs:
        alone = _runner(
            "speaker_utterance",
            tone_corpus,
            tmp_path / f"alone{seed}",
            cache=str(tmp_path / f"c{seed}"),
            extra=[f"seed={seed}", "runner.total_steps=6", "runner.eval_step=6"],
        )
        assert alone.train()["metrics"] == json.loads((tmp_path / f"exp{seed}" / "results.json").read_text())["metrics"]


def test_a_damaged_cache_file_names_itself(tone_corpus, tmp_path):
    from aalbert.checkpoint_file import CheckpointError

    cache_dir = tmp_path / "features"
    runner = _runner("speaker_utterance", tone_corpus, tmp_path / "exp", cache=str(cache_dir))
    runner.cache_features(("dev",))
    victim = next(cache_dir.glob("*/layer_01/*.pt"))
    victim.write_bytes(b"")
    with pytest.raises(CheckpointError, match=f"{victim.name}: is empty"):
        runner.model.feature_cache.layer(1, [victim.stem])


def test_a_marker_being_written_by_another_run_is_not_foreign(tmp_path):
    from aalbert.downstream.feature_cache import MARKER

    folder = tmp_path / "features"
    folder.mkdir()
    (folder / f".{MARKER}.12345.abcdef.tmp").write_text("{")  # another process, mid-write
    cache = FeatureCache(2, folder)
    cache.open(cache_manifest("fake", None, 0, "none"))
    assert (folder / MARKER).is_file() and cache.directory.parent == folder


def test_a_featurizer_of_one_hidden_state_reads_only_that_state(tone_corpus, tmp_path):
    import shutil

    runner = _runner(
        "speaker_utterance",
        tone_corpus,
        tmp_path / "exp",
        cache=str(tmp_path / "cache"),
        extra=["featurizer.mode=hidden_states", "featurizer.layer=1"],
    )
    runner.cache_features(("train",))
    for unused in ("layer_00", "layer_02"):
        shutil.rmtree(runner.model.feature_cache.directory / unused)
    out = runner.model(next(iter(runner.train_loader(0))))
    assert torch.isfinite(out.loss)


# ----------------------------------------------------------------- names from the data, the audio check
def _kaldi_with_ids(tone_corpus, data_dir, renamed):
    """A Kaldi data dir over the tone corpus, with some utterances under other ids (``renamed``:
    tone id -> id), speakers as in the tone corpus."""
    from corpus_layouts import tone_files

    files = tone_files(tone_corpus)
    data_dir.mkdir(parents=True)
    ids = {renamed.get(u, u): u for u in files}
    (data_dir / "wav.scp").write_text("".join(f"{i} {files[u]}\n" for i, u in ids.items()))
    (data_dir / "utt2spk").write_text("".join(f"{i} {u.split('-')[0]}\n" for i, u in ids.items()))
    return data_dir


def _alone(utt):
    """The features of one utterance, computed without any cache."""
    with torch.no_grad():
        out = FakeUpstream().eval()([load_audio(utt.path)])
    return [h[0] for h in out["hidden_states"]]


def test_an_utterance_id_from_the_corpus_never_names_a_path_outside_the_cache(tone_corpus, tmp_path):
    """A wav.scp id ``../../../../outside/victim`` (and ids differing only in case) as a user meets them."""
    hostile = "../../../../outside/victim"
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim.json").write_text("precious")
    kaldi = _kaldi_with_ids(
        tone_corpus, tmp_path / "kaldi", {"100-7-0001": hostile, "100-7-0002": "Tone-A", "100-7-0004": "tone-a"}
    )
    cache_dir = tmp_path / "work" / "features"
    extra = ["data.format=kaldi", "runner.feature_cache_dtype=float32"]  # compared with fp32 features below
    runner = _runner("speaker_utterance", kaldi, tmp_path / "exp", cache=str(cache_dir), extra=extra)
    runner.cache_features(("train", "dev", "test"))

    assert sorted(p.name for p in outside.iterdir()) == ["victim.json"]
    assert (outside / "victim.json").read_text() == "precious"
    every_file = [p for p in tmp_path.rglob("*") if p.is_file() and cache_dir not in p.parents]
    assert not [p for p in every_file if p.suffix in (".pt", ".json") and p.parent.name in ("layer_00", "audio")]
    by_id = {u.uttid: u for split in runner.corpus.splits.values() for u in split}
    assert {hostile, "Tone-A", "tone-a"} <= set(by_id)
    cache = runner.model.feature_cache
    for layer in range(3):
        names = [p.name for p in (cache.directory / f"layer_{layer:02d}").iterdir()]
        # one file per utterance, even on a file system that ignores case (macOS, Windows)
        assert len({n.lower() for n in names}) == len(by_id)
    # and each id reads back its own features
    for uttid in (hostile, "Tone-A", "tone-a"):
        assert cache.has(uttid)
        for got, want in zip(cache.padded([uttid])[0], _alone(by_id[uttid])):
            assert torch.allclose(got[0], want, atol=1e-5), uttid
    # a second run finds them all in the cache (and reads the split it wrote)
    again = _runner("speaker_utterance", kaldi, tmp_path / "exp", cache=str(cache_dir), extra=extra)
    again.cache_features(("train", "dev", "test"))
    assert again.model.upstream.utterances_seen == 0


def _edit_middle_keep_size_and_mtime(path):
    """Change samples in the middle of a WAV file in place; size and modification time restored."""
    import os

    stat = path.stat()
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    for i in range(middle - 4000, middle + 4000):
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size and path.stat().st_mtime_ns == stat.st_mtime_ns


@pytest.mark.parametrize("check", ["quick", "full"])
def test_feature_cache_check_quick_misses_a_middle_edit_full_does_not(check, tone_corpus, tmp_path):
    """The documented limit of the quick check, and the full check that closes it."""
    import numpy as np
    import soundfile
    from corpus_layouts import tone_files

    # long WAV files: more than 2 x 64 KiB, so the middle is outside the hashed edges
    folder = tmp_path / "wavs"
    folder.mkdir()
    for uttid, src in list(tone_files(tone_corpus).items())[:3]:
        wave, sr = soundfile.read(src, dtype="float32")
        soundfile.write(folder / f"{uttid}.wav", np.tile(wave, 12), sr, subtype="PCM_16")
    kaldi = tmp_path / "kaldi"
    kaldi.mkdir()
    wavs = sorted(folder.glob("*.wav"))
    assert all(p.stat().st_size > 4 * 64 * 1024 for p in wavs)
    (kaldi / "wav.scp").write_text("".join(f"{p.stem} {p}\n" for p in wavs))
    (kaldi / "utt2spk").write_text("".join(f"{p.stem} spk\n" for p in wavs))

    from aalbert.corpus.registry import read_corpus
    from aalbert.corpus.spec import CorpusConfig

    utts = read_corpus(CorpusConfig(format="kaldi").spec([str(kaldi)])).utterances
    cache = FeatureCache(3, tmp_path / "features")
    manifest = cache_manifest("fake", None, 0, "none")
    assert fill_cache(CountingUpstream(), utts, cache, manifest, progress=False, check=check) == 3
    edited = utts[1]
    _edit_middle_keep_size_and_mtime(wavs[1])
    rerun = CountingUpstream()
    extracted = fill_cache(rerun, utts, cache, manifest, progress=False, check=check)
    got = cache.layer(2, [edited.uttid])[0]
    fresh = _alone(edited)[2]
    if check == "quick":  # the documented limit: same size, same mtime, same edges -> stale features kept
        assert extracted == 0 and not torch.allclose(got, fresh, atol=1e-3)
    else:
        assert extracted == 1 and rerun.utterances_seen == 1
        assert torch.allclose(got, fresh, atol=1e-5)
    # entries written by the full check serve the quick one; quick ones are hashed once for full
    assert fill_cache(CountingUpstream(), utts, cache, manifest, progress=False, check="quick") == 0
    upgraded = fill_cache(CountingUpstream(), utts, cache, manifest, progress=False, check="full")
    assert upgraded == (3 if check == "quick" else 0)


def test_feature_cache_check_is_a_runner_option(tone_corpus, tmp_path):
    from aalbert.config import ConfigError

    runner = _runner(
        "speaker_utterance",
        tone_corpus,
        tmp_path / "exp",
        cache=str(tmp_path / "c"),
        extra=["runner.feature_cache_check=full"],
    )
    runner.cache_features(("dev",))
    entry = next((runner.model.feature_cache.directory / "audio").glob("*.json"))
    assert len(json.loads(entry.read_text())["sha256"]) == 64
    with pytest.raises(ConfigError, match="feature_cache_check"):
        _runner("speaker_utterance", tone_corpus, tmp_path / "bad", extra=["runner.feature_cache_check=sometimes"])


def test_the_channel_read_from_a_stereo_file_is_part_of_the_audio_key(tmp_path):
    import numpy as np
    import soundfile

    from aalbert.corpus.utterance import Utterance
    from aalbert.downstream.feature_cache import audio_key

    path = tmp_path / "stereo.wav"
    left = np.linspace(-0.5, 0.5, 3200, dtype=np.float32)
    soundfile.write(path, np.stack([left, -left], axis=1), 16000)
    keys = [audio_key(Utterance("u", path, "s", num_samples=3200, channel=c)) for c in (0, 1, "mean")]
    assert len({json.dumps(k, sort_keys=True) for k in keys}) == 3  # data.channel changed: features extracted again
    assert "channel" not in audio_key(Utterance("u", path, "s", num_samples=3200))  # mono keys as before
