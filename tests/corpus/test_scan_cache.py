"""The corpus scan reads each audio header once; later scans only stat the files."""

import numpy as np
import soundfile

import aalbert.corpus.scan_cache as scan_cache
from aalbert.corpus.registry import read_corpus
from aalbert.corpus.spec import CorpusSpec


def _write(root, n=4):
    for i in range(n):
        folder = root / "7" / "1"
        folder.mkdir(parents=True, exist_ok=True)
        soundfile.write(folder / f"7-1-{i:04d}.flac", np.zeros(1600 + 160 * i, dtype=np.float32), 16000)


def test_second_scan_reads_no_header_and_changed_files_are_reread(tmp_path, monkeypatch):
    _write(tmp_path / "c")
    reads = []
    real = scan_cache.audio_info
    monkeypatch.setattr(scan_cache, "audio_info", lambda p: reads.append(str(p)) or real(p))
    spec = CorpusSpec("librispeech", [str(tmp_path / "c")])
    first = {u.uttid: u.num_samples for u in read_corpus(spec).utterances}
    assert len(reads) == 4 and first["7-1-0003"] == 1600 + 480
    reads.clear()
    assert {u.uttid: u.num_samples for u in read_corpus(spec).utterances} == first
    assert reads == []
    changed = tmp_path / "c" / "7" / "1" / "7-1-0002.flac"
    soundfile.write(changed, np.zeros(5000, dtype=np.float32), 16000)
    again = {u.uttid: u.num_samples for u in read_corpus(spec).utterances}
    assert reads == [str(changed)] and again["7-1-0002"] == 5000
    # turning the cache off reads every header
    reads.clear()
    read_corpus(CorpusSpec("librispeech", [str(tmp_path / "c")], scan_cache=False))
    assert len(reads) == 4


def test_a_damaged_manifest_is_rebuilt(tmp_path):
    _write(tmp_path / "c", n=2)
    spec = CorpusSpec("librispeech", [str(tmp_path / "c")])
    read_corpus(spec)
    path = scan_cache.manifest_path("librispeech", [tmp_path / "c"])
    assert path.is_file()
    path.write_text("{not json")
    assert len(read_corpus(spec).utterances) == 2
