"""The probe's disk cache: ids from the corpus stay inside it; ``--cache-check full`` hashes whole files."""

import json

from analysis_fakes import ToyUpstream
from corpus_layouts import tone_files

from aalbert.analysis.probing import build_parser, config_from_args, run


def test_probe_cache_keeps_hostile_ids_inside_and_checks_whole_files(probe_corpus, tmp_path):
    files = tone_files(probe_corpus)
    hostile = {"100-7-0001": "../../../../outside/victim", "101-7-0002": "Tone-A", "101-7-0004": "tone-a"}
    kaldi = tmp_path / "kaldi"
    kaldi.mkdir()
    ids = {hostile.get(u, u): u for u in files}
    (kaldi / "wav.scp").write_text("".join(f"{i} {files[u]}\n" for i, u in ids.items()))
    (kaldi / "utt2spk").write_text("".join(f"{i} {u.split('-')[0]}\n" for i, u in ids.items()))
    (tmp_path / "outside").mkdir()
    cache_dir = tmp_path / "work" / "cache"
    flags = ["--task", "speaker", "--data", str(kaldi), "--format", "kaldi", "--probes", "linear", "--layers", "0"]
    flags += ["--epochs", "1", "--cache-dir", str(cache_dir), "--cache-check", "full"]
    cfg = config_from_args(build_parser().parse_args(flags))
    assert cfg.cache_check == "full"

    first = ToyUpstream()
    rows = run(cfg, tmp_path / "out", first, progress=False)
    assert list((tmp_path / "outside").iterdir()) == []
    layer_files = list(cache_dir.glob("*/layer_00/*.pt"))
    assert len({p.name.lower() for p in layer_files}) == len(ids) == 30
    entries = [json.loads(p.read_text()) for p in cache_dir.glob("*/audio/*.json")]
    assert len(entries) == 30 and all(len(e["sha256"]) == 64 for e in entries)

    again = ToyUpstream()
    assert run(cfg, tmp_path / "again", again, progress=False) == rows
    assert again.calls == 0  # every id found its own files
