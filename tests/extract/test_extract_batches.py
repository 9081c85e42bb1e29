"""The one extraction path (aalbert.downstream.extraction) that the feature cache and `aalbert extract`
share: length-sorted batches, valid frames, and the GPU-ready transfers (pinned memory, non-blocking
copies) exercised on CPU."""

from __future__ import annotations

import pytest
import torch

from aalbert.audio import load_audio
from aalbert.corpus.registry import read_corpus
from aalbert.corpus.spec import CorpusSpec
from aalbert.downstream.extraction import Transfer, extract_batches, length_batches, num_samples
from aalbert.downstream.feature_cache import FeatureCache, extract_features
from aalbert.extract.shard import shard_batches
from aalbert.testing import TinyUpstream, make_tone_corpus


@pytest.fixture(scope="module")
def utterances(tmp_path_factory):
    corpus = make_tone_corpus(tmp_path_factory.mktemp("tones"), speakers=2, utterances=4)
    return read_corpus(CorpusSpec("librispeech", [str(corpus)])).utterances


def test_batches_are_length_sorted_and_dealt_whole_to_shards(utterances):
    batches = length_batches(utterances, 3)
    flat = [u for b in batches for u in b]
    assert sorted(map(id, flat)) == sorted(map(id, utterances))
    assert [num_samples(u) for u in flat] == sorted(num_samples(u) for u in utterances)
    assert [len(b) for b in batches] == [3, 3, 2]
    # every shard count deals the same batches: an utterance's batch never depends on --jobs
    for shards in (1, 2, 3):
        dealt = [b for s in range(shards) for b in shard_batches(batches, s, shards)]
        assert sorted(map(id, dealt)) == sorted(map(id, batches))


def test_valid_frames_are_the_upstreams_own_output(utterances):
    upstream = TinyUpstream().eval()
    for out in extract_batches(upstream, length_batches(utterances, 4), num_hidden_states=3):
        for i, utt in enumerate(out.utterances):
            with torch.no_grad():
                alone = upstream([load_audio(utt.path)])["hidden_states"]
            for got, want in zip(out.valid(i), alone):
                assert got.shape == want[0].shape
                torch.testing.assert_close(got, want[0], atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match="upstream gave 3 hidden states, expected 4"):
        next(extract_batches(upstream, length_batches(utterances, 4), num_hidden_states=4))


def test_the_pinned_non_blocking_path_runs_on_cpu(utterances, monkeypatch):
    """What runs on CUDA (waves pinned in the loader thread, non-blocking copies both ways, one
    synchronisation per batch) forced on CPU: the same numbers as the plain path."""
    assert Transfer.for_device("cuda") == Transfer(torch.device("cuda"), True, True)
    assert Transfer.for_device("cpu") == Transfer(torch.device("cpu"), False, False)
    pinned: list[int] = []

    def pin_memory(self):  # CPU-only torch cannot pin: record the call, keep the tensor
        pinned.append(self.numel())
        return self

    monkeypatch.setattr(torch.Tensor, "pin_memory", pin_memory)
    upstream = TinyUpstream().eval()
    batches = length_batches(utterances, 3)
    plain = [[h.clone() for h in out.hidden_states] for out in extract_batches(upstream, batches)]
    forced = Transfer(torch.device("cpu"), pin_memory=True, non_blocking=True)
    monkeypatch.setattr(Transfer, "for_device", classmethod(lambda cls, device, pin=None: forced))
    fast = [[h.clone() for h in forced.to_host(out.hidden_states)] for out in extract_batches(upstream, batches)]
    assert len(pinned) == len(utterances)  # every wave, once
    for a, b in zip(plain, fast):
        assert all(torch.equal(x, y) for x, y in zip(a, b))


def test_the_feature_cache_stores_what_the_shared_path_gives(utterances):
    upstream = TinyUpstream().eval()
    cache = FeatureCache(3)
    extract_features(upstream, utterances, cache, batch_size=3, progress=False)
    for out in extract_batches(upstream, length_batches(utterances, 3)):
        for i, utt in enumerate(out.utterances):
            assert all(
                torch.equal(c[0], v) for c, v in zip((cache.layer(k, [utt.uttid]) for k in range(3)), out.valid(i))
            )
