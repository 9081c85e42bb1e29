"""Every command block of README.md runs, at toy size, so the README cannot drift from the code.

Each fenced bash line (``\\`` continuations joined, comments dropped) and each python block runs
under this interpreter and checkout. ``TOOLS`` has one function per toolkit command: its arguments
at toy size and the files it must write; a README command none of them knows fails the test, and
``NOT_RUN`` says why a line is not run. ``PLACEHOLDERS`` swaps what the README leaves to the reader
(``CKPT``, ``/data/...``) for toy fixtures. Each ``## `` section runs in its own folder, in README
order (a resume finds the run trained just before it).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from functools import reduce
from pathlib import Path

import pytest
from corpus_layouts import tone_segments, write_kaldi, write_lhotse, write_textgrids, write_timit
from tone_corpus import make_tone_corpus

from aalbert.testing import make_fluent_commands, make_speech_commands, make_spelled_corpus, make_voxceleb1

# --- the config keys this test writes and reads: when a recipe key is renamed, rename it here ---------
STEPS, SAVE_EVERY, KEEP_LAST = "runner.total_steps", "runner.save_step", "runner.max_keep"  # pretraining
PRETRAIN_TOY = (  # the tiny recipe shrunk: 2 steps (a checkpoint at step 2), hidden 32, no loader workers
    f"{STEPS}=2,{SAVE_EVERY}=2,runner.image_step=0,runner.batch_size=2,runner.num_workers=0,"
    "model.hidden_size=32,model.intermediate_size=64,model.num_attention_heads=2"
)
PRETRAIN_STEPS, RESUMED_STEPS = 2, 4  # a README resume (-e EXP -o STEPS=N) trains to RESUMED_STEPS instead
DOWNSTREAM_TOY = "runner.total_steps=2,runner.eval_step=2"
SYNTH_TOY = {"speakers": 4, "utterances": 3, "seed": 0}  # and 2-4 words: data/synth40 (the fixture) at toy size

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
SYNOPSIS = "aalbert probe | attention | plots | hub | corpus | extract | demo ..."
NOT_RUN = {  # README lines not run, and why
    "make demo": "the whole pipeline on a 40-speaker corpus (~13 min); tests/test_demo.py runs it at toy size",
    "make test": "runs the whole test suite, this test included",
    SYNOPSIS: "a synopsis, not a command (test_readme_synopsis_names_every_subcommand checks it)",
    # s3prl's own code on a model.stacking=1 checkpoint (the toy one stacks 3): tests/test_s3prl_compat.py
    # and tests/upstream/test_s3prl_featurizers.py run the same calls on one
    "python -c from aalbert import s3prl_compat; s3prl_compat.install(); from s3prl.nn import S3PRLUpstream, "
    "Featurizer; u = S3PRLUpstream('audio_albert_local', 'CKPT_STACKING_1'); print(Featurizer(u).output_size)": "s3prl.nn on a model.stacking=1 checkpoint (the toy one stacks 3)",
    "python -c from aalbert import s3prl_compat; s3prl_compat.install(); from s3prl import run_downstream; "
    "run_downstream.main() -m train -u audio_albert_local -k CKPT_STACKING_1 -d example -c example.yaml -p "
    "result/s3prl_example --device cpu": "s3prl's runner and example task (tests/test_s3prl_compat.py runs them)",
}
# runs in that section's folder: it plots (extracts the weighted sum of) the experiment trained there
SHARED = {"Analysis": "Downstream tasks", "Extracting representations": "Downstream tasks"}
PLACEHOLDERS = {  # what the README leaves to the reader (regex) -> the toy fixture standing for it
    r"\bCKPT\b": "{ckpt}",
    r"result/pretrain/\w+/states-\d+\.ckpt": "{ckpt}",  # test_readme_checkpoints_are_kept_by_their_recipe
    # asr_ctc needs transcripts and LibriSpeech's test-* subset: a spelled corpus in that layout stands for it
    r"(?<=-d asr_ctc -n asr --data )/data/LibriSpeech\b": "{spelled}",
    r"(?<![\w./])/data/": "{data}/",  # corpora in every format: the tone corpus in each layout
    r"\[\.\.\.\]": "[{data}/LibriSpeech/dev-clean]",
    r"(?<![\w./])data/synth40\b": "{synth40}",
    r"path/to/aalbert": "{repo}",
    r'(?<=torch\.hub\.load\()"\."': '"{repo}"',
}
# what the python blocks say: hidden_states holds the input representation, then every layer
CHECK_LAYERS = '\nif {"model", "out"} <= set(globals()):\n    assert len(out["hidden_states"]) == model.num_layers + 1'


def readme_steps() -> dict[str, list[str]]:
    """Working folder (section) -> its commands and python blocks (``#py`` + code), in README order."""
    folders: dict[str, list[str]] = {}
    section, fence, body = "", None, []
    for line in README.read_text(encoding="utf-8").splitlines():
        if fence is None and line.startswith("## "):
            section = line[3:].strip()
        elif line.startswith("```") and fence is None:
            fence, body = line[3:].strip(), []
        elif line.startswith("```"):
            steps = folders.setdefault(SHARED.get(section, section), [])
            if fence == "python":
                steps.append("\n".join(["#py", *body]))
            elif fence in ("bash", "sh", "shell", "console"):
                lines = "\n".join(body).replace("\\\n", " ").splitlines()
                steps += [" ".join(words) for line in lines if (words := shlex.split(line, comments=True))]
            fence = None
        elif fence is not None:
            body.append(line)
    assert fence is None, "README.md ends inside a fenced block"
    return folders


COMMANDS = [s for steps in readme_steps().values() for s in steps if not s.startswith("#py")]
FOLDERS = {f: run for f, steps in readme_steps().items() if (run := [s for s in steps if s not in NOT_RUN])}


# --- one function per toolkit command: its arguments at toy size, the files it must write -------------
def flag(args: str, name: str) -> str:
    found = re.search(rf"(?:^| ){name} (\S+)", args)
    assert found, f"no {name} in {args!r}"
    return found[1]


def pretrain(args: str) -> tuple[str, list[str]]:
    if args.startswith("-e "):  # continues the run its section trained
        args, n = re.subn(rf"{re.escape(STEPS)}=\d+", f"{STEPS}={RESUMED_STEPS}", args)
        assert n == 1, f"the resume {args!r} sets no {STEPS}: was it renamed? (top of tests/test_readme.py)"
        return args, [f"{flag(args, '-e')}/states-{RESUMED_STEPS}.ckpt"]
    return f"{args} -o {PRETRAIN_TOY}", [f"result/pretrain/{flag(args, '-n')}/states-{PRETRAIN_STEPS}.ckpt"]


def downstream(args: str) -> tuple[str, list[str]]:
    if args == "--list-tasks":
        return args, []
    if re.fullmatch(r"-m evaluate -e \S+", args):  # the experiment its section trained
        return args, [f"{flag(args, '-e')}/results.json"]
    return f"{args} -o {DOWNSTREAM_TOY}", [f"result/downstream/{flag(args, '-n')}/results.json"]


def probe(args: str) -> tuple[str, list[str]]:
    out = f"result/probe/{flag(args, '-n')}"
    return f"{args} --max-steps 2 --epochs 1", [f"{out}/probe_results.json", f"{out}/probe_accuracy.png"]


def attention(args: str) -> tuple[str, list[str]]:
    out = f"result/attention/{flag(args, '-n')}/attention_jsd"
    return re.sub(r"--num-utterances \d+", "--num-utterances 2", args), [f"{out}.json", f"{out}.png"]


def plots(args: str) -> tuple[str, list[str]]:
    if out := re.fullmatch(r"probe( \S+)+ --out (?P<png>\S+)", args):  # several runs, one figure
        return args, [out["png"]]
    assert re.fullmatch(r"(downstream|layer-weights) \S+", args), f"plots {args}: not known"
    return args, [f"{args.split()[1]}/layer_weights.png"]


def hub(args: str) -> tuple[str, list[str]]:  # `aalbert` is in the fixture's cache, read offline
    assert re.fullmatch(r"list|info \S+|download \S+", args), f"hub {args}: not known"
    return args, []


def corpus(args: str) -> tuple[str, list[str]]:
    if args.startswith("inspect "):
        return args, []
    assert args.startswith("synthesize "), f"corpus {args}: not known"
    for name, value in SYNTH_TOY.items():  # the fixture's size: it finds data/synth40 complete and reuses it
        args = re.sub(rf"--{name} \d+", f"--{name} {value}", args)
    return f"{args} --min-words 2 --max-words 4 --no-progress", []


def extract(args: str) -> tuple[str, list[str]]:
    return f"{args} --no-progress", [f"{flag(args, '--out')}/summary.json"]


TOOLS = {f.__name__: f for f in (pretrain, downstream, probe, attention, plots, hub, corpus, extract)}
START = re.compile(r"(torchrun --nproc_per_node (?P<n>\d+) |python )run_(?P<script>\w+)\.py|aalbert (?P<cmd>\w+)")


def fill(text: str, fx: dict) -> str:
    """The placeholders replaced in one pass, so a fixture path put in is never taken for one."""
    values, pattern = list(PLACEHOLDERS.values()), "|".join(f"(?P<p{i}>{p})" for i, p in enumerate(PLACEHOLDERS))
    return re.sub(pattern, lambda m: values[int(m.lastgroup[1:])].format(repo=REPO, **fx), text)


def toy_argv(step: str, fx: dict) -> tuple[list[str], list[str]]:
    """A README step as run here (``aalbert X`` as ``python -m aalbert X``; torchrun as
    ``python -m torch.distributed.run``, on CPU), and the files it must write."""
    if step.startswith("#py"):
        return [sys.executable, "-c", fill(step, fx) + CHECK_LAYERS], []
    start = START.match(step)
    tool = start and (start["script"] or start["cmd"])
    assert tool in TOOLS, f"{step!r}: no function in TOOLS runs it (or list it in NOT_RUN with the reason)"
    args, writes = TOOLS[tool](step[start.end() :].strip())
    argv = ["-m", "aalbert", tool] if start["cmd"] else [f"{REPO}/run_{tool}.py"]
    if start["n"]:  # a free port (--standalone), the ranks on CPU with gloo
        argv = ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node", start["n"], *argv]
        args += " --device cpu"
    return [sys.executable, *argv, *shlex.split(fill(args, fx))], writes


@pytest.fixture(scope="module")
def fx(tmp_path_factory) -> dict:
    """/data in every layout (the tone corpus: speakers 100-102 train, 103 held out), data/synth40,
    a 2-step pretraining checkpoint (CKPT), and a torch hub cache holding it as the published `aalbert`."""
    from aalbert.corpus import synthesize
    from aalbert.pretrain.cli import main
    from aalbert.upstream.pretrained import find_pretrained

    root = tmp_path_factory.mktemp("readme_fixtures")
    data, tones = root / "data", make_tone_corpus(root / "tones", speakers=4, utterances=6)
    phones = {u: [p for _, _, p in segs if p != "sil"] for u, segs in sorted(tone_segments(tones).items())}
    libri = data / "LibriSpeech"  # train-clean-100 and dev-clean, s3prl alignments in ROOT/alignment
    shutil.copytree(tones, libri, ignore=shutil.ignore_patterns("tone_segments.json"))
    (libri / "train-tiny").rename(libri / "train-clean-100")
    (libri / "dev-clean").mkdir()
    (libri / "train-clean-100" / "103").rename(libri / "dev-clean" / "103")
    write_timit(tones, data / "TIMIT", parts={"TRAIN": ["100", "101", "102"], "TEST": ["103"]})
    words = {u: " ".join(p.upper() for p in ps) for u, ps in phones.items()}  # spelled by lexicon.txt
    for part, held_out in (("train", False), ("test", True)):
        uttids = [u for u in phones if u.startswith("103-") == held_out]
        write_kaldi(tones, data / "corpus" / part, uttids=uttids, text=words)
    lexicon = sorted({p for ps in phones.values() for p in ps})
    (data / "corpus" / "lexicon.txt").write_text("".join(f"{p.upper()} {p}\n" for p in lexicon))
    write_textgrids(tones, data / "mfa_output")
    cuts = write_lhotse(tones, data / "manifests", as_cuts=True) / "tone_cuts.jsonl.gz"
    cuts.rename(cuts.with_name("librispeech_cuts_train-clean-100.jsonl.gz"))
    (data / "phones.txt").write_text("".join(f"{u} {' '.join(ps)}\n" for u, ps in phones.items()))
    scores = {u: f"{i / 10:.1f}" for i, u in enumerate(sorted(phones))}  # utterance_regression's tables
    (libri / "utt2score").write_text("".join(f"{u} {v}\n" for u, v in scores.items()))
    (libri / "spk2age").write_text("".join(f"{100 + s} {30 + 7 * s}\n" for s in range(4)))
    make_speech_commands(
        data / "speech_commands_v0.01", speakers=6, test_set_root=data / "speech_commands_test_set_v0.01"
    )
    make_fluent_commands(data / "fluent_speech_commands_dataset", speakers=4, utterances=5)
    make_voxceleb1(data / "VoxCeleb1", speakers=6, videos=2, utterances=3, test_speakers=2)
    spelled = make_spelled_corpus(root / "spelled", speakers=2, utterances=4)
    synth40 = synthesize(root / "synth40", **SYNTH_TOY, words_per_utterance=(2, 4), progress=False)
    ckpt, recipe = root / "pretrain" / f"states-{PRETRAIN_STEPS}.ckpt", REPO / "config" / "pretrain" / "tiny.yaml"
    flags = ["-c", str(recipe), "-o", f"data.roots=[{libri / 'dev-clean'}]", "-o", PRETRAIN_TOY, "--no-progress"]
    code = main(["-u", "aalbert", *flags, "--expdir", str(ckpt.parent), "--device", "cpu"])
    assert code == 0 and ckpt.is_file(), f"the toy pretraining failed (exit {code}) or wrote no {ckpt}"
    cached = find_pretrained("aalbert").cache_path(root / "torch" / "hub")  # placed by hand, as offline
    cached.parent.mkdir(parents=True)
    shutil.copyfile(ckpt, cached)
    return {"data": data, "synth40": synth40, "ckpt": ckpt, "torch_home": root / "torch", "spelled": spelled}


def test_every_readme_command_is_run_or_listed():
    assert len(COMMANDS) >= 10 and any(s.startswith("#py") for steps in FOLDERS.values() for s in steps)
    unknown = {}
    for command in set(COMMANDS) - set(NOT_RUN):
        try:
            toy_argv(command, {k: Path(f"/{k}") for k in ("data", "synth40", "ckpt", "torch_home", "spelled")})
        except AssertionError as err:
            unknown[command] = str(err)
    assert not unknown, f"README commands this test cannot run: {unknown}"
    assert set(NOT_RUN) <= set(COMMANDS), f"NOT_RUN lines the README no longer has: {set(NOT_RUN) - set(COMMANDS)}"
    assert set(SHARED.values()) <= set(FOLDERS), f"SHARED names a section the README no longer has: {SHARED}"


def test_readme_synopsis_names_every_subcommand():
    from aalbert.cli import COMMANDS as SUBCOMMANDS

    named = {word.split()[-1] for word in SYNOPSIS.removeprefix("aalbert ").removesuffix("...").split("|")}
    assert named <= set(SUBCOMMANDS), f"the README synopsis names {named - set(SUBCOMMANDS)}, not subcommands"
    assert set(SUBCOMMANDS) - {"pretrain", "downstream"} <= named, "a subcommand missing from the README synopsis"


def test_readme_checkpoints_are_kept_by_their_recipe():
    """``result/pretrain/NAME/states-N.ckpt``: a checkpoint the README's own ``-n NAME`` pretraining keeps."""
    import yaml

    named = re.findall(r"result/pretrain/(\w+)/states-(\d+)\.ckpt", README.read_text(encoding="utf-8"))
    assert named, "the README names no pretraining checkpoint: drop this test and its placeholder"
    for name, step in named:
        recipes = {flag(c, "-c") for c in COMMANDS if re.search(rf"\bpretrain(\.py)? .*-c .*-n {name}( |$)", c)}
        assert recipes, f"README: states-{step}.ckpt of result/pretrain/{name}, but no pretraining command -n {name}"
        for recipe in recipes:  # a path in the checkout, or a recipe name (config/NAME.yaml)
            path = REPO / recipe if recipe.endswith(".yaml") else REPO / "config" / f"{recipe}.yaml"
            config = yaml.safe_load(path.read_text())
            total, every, keep = (
                reduce(dict.__getitem__, k.split("."), config) for k in (STEPS, SAVE_EVERY, KEEP_LAST)
            )
            kept = sorted({*range(every, total + 1, every), total})[-keep:]
            assert int(step) in kept, f"README names {name}/states-{step}.ckpt but {recipe} keeps {kept}"


@pytest.mark.slow
@pytest.mark.parametrize("folder", FOLDERS, ids=lambda f: re.sub(r"[^a-z0-9]+", "_", f.lower()).strip("_"))
def test_readme_section_runs(folder, fx, tmp_path):
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))  # this checkout's aalbert
    env = {**os.environ, "TORCH_HOME": str(fx["torch_home"]), "AALBERT_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    env.update(MPLBACKEND="Agg", PYTHONPATH=path)
    for step in FOLDERS[folder]:
        argv, writes = toy_argv(step, fx)
        for written in writes:  # what an earlier step wrote is not taken for this one's
            (tmp_path / written).unlink(missing_ok=True)
        proc = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        said = (
            f"README: {step}\nran: {shlex.join(argv)}\n"
            + f"stdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-3000:]}"
        )
        assert proc.returncode == 0, f"exit code {proc.returncode}\n{said}"
        unwritten = [w for w in writes if not (tmp_path / w).is_file()]
        assert not unwritten, f"it did not write {', '.join(unwritten)}\n{said}"
