"""Every command block of README.md runs, at toy size, so the README cannot drift from the code.

README.md is parsed when the tests run: each fenced ``bash`` line (``\\`` continuations joined,
comments and blank lines dropped) and each ``python`` block. ``RULES`` is the one table of
rewrites: the first :class:`Program` that matches a command says how it starts (``aalbert X``,
``python run_X.py``, ``python -m aalbert.X``, ``torchrun ...``, all under this interpreter and
checkout), the first :class:`Toy` for its toolkit command makes it toy-sized and names what it must
write, and every :class:`Placeholder` replaces what the README leaves to the reader (``CKPT``,
``/data/...``, ``data/synth40``) with the toy fixtures of tests/readme_fixtures.py. A command no
rule knows fails the test: a new README command cannot go untested. What is
deliberately not run is listed in ``NOT_RUN``, with the reason.

Each section runs in a fresh working folder (so ``result/`` is written there, never in the
checkout) and its commands run in README order, so a resume (``-e``) finds the run its section
trained just before; ``SHARED_FOLDER`` names the sections that continue another's. Two folders
run at a time (each command is single-threaded, and mostly imports).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from readme_fixtures import PRETRAIN_TOY, REPO, SYNTH_TOY, ReadmeFixtures, build_readme_fixtures

README = REPO / "README.md"
PRETRAIN_STEPS = 2  # what PRETRAIN_TOY trains: fresh runs write states-2.ckpt
RESUMED_STEPS = 4  # a README resume (-e ... -o optim.total_steps=N) continues to this step instead
DOWNSTREAM_TOY = "runner.total_steps=2,runner.eval_step=2"
COMMAND_TIMEOUT_S = 300


@dataclass(frozen=True)
class Program:
    """How a README command starts: ``pattern`` (matched at the start of its words, joined by single
    spaces) is replaced by ``argv``, and ``append`` goes at the end (``{group}``: the match's groups).
    The group ``tool`` (or ``module``, for ``python -m aalbert.X``) names the toolkit command that
    the :class:`Toy` rules see."""

    pattern: str
    argv: tuple[str, ...]
    append: tuple[str, ...] = ()


@dataclass(frozen=True)
class Toy:
    """What makes a toolkit command toy-sized: ``pattern`` matches ``TOOL ARGS`` (the README's words
    after the program); ``edits`` (regex, replacement) rewrite ARGS, ``append`` is added, and the
    files ``writes`` names (relative to the working folder; ``{group}`` from the match) must be
    written by the command."""

    pattern: str
    edits: tuple[tuple[str, str], ...] = ()
    append: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Placeholder:
    """What the README leaves to the reader (regex) -> the toy fixture standing for it, in every
    command and python block; ``{repo}``, ``{data}``, ``{synth40}``, ``{ckpt}`` name the fixtures."""

    pattern: str
    value: str


PYTHON = "{python}"
TORCHRUN = (PYTHON, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "{n}")
RULES: list[Program | Toy | Placeholder] = [
    # --- how commands start: under this interpreter, from this checkout ----------------------------
    # torchrun as `python -m torch.distributed.run` (the venv's bin/ may not be on PATH) with the
    # README's process count, at toy size; --standalone: a free rendezvous port (tests may run side
    # by side); --device cpu: the ranks run on CPU with gloo (a test machine has at most one GPU)
    Program(
        r"torchrun --nproc_per_node (?P<n>\d+) run_(?P<tool>\w+)\.py",
        (*TORCHRUN, "{repo}/run_{tool}.py"),
        append=("--device", "cpu"),
    ),
    Program(
        r"torchrun --nproc_per_node (?P<n>\d+) -m aalbert (?P<tool>\w+)",
        (*TORCHRUN, "-m", "aalbert", "{tool}"),
        append=("--device", "cpu"),
    ),
    # a checkout's alias script: the README runs it from the checkout root, the test from a tmp folder
    Program(r"python run_(?P<tool>\w+)\.py", (PYTHON, "{repo}/run_{tool}.py")),
    # the `aalbert` command as `python -m aalbert` (the console script may not be on PATH)
    Program(r"(python -m )?aalbert (?P<tool>\w+)", (PYTHON, "-m", "aalbert", "{tool}")),
    # a toolkit module run directly; its tool is the subcommand that runs that module
    Program(r"python -m (?P<module>aalbert\.[\w.]+)", (PYTHON, "-m", "{module}")),
    # --- toy size, per toolkit command --------------------------------------------------------------
    # pretraining: a resume continues the run its section trained, to RESUMED_STEPS instead of N
    Toy(
        r"pretrain -e (?P<exp>\S+)",
        edits=((r"optim\.total_steps=\d+", f"optim.total_steps={RESUMED_STEPS}"),),
        writes=(f"{{exp}}/states-{RESUMED_STEPS}.ckpt",),
    ),
    # the README's recipe shrunk by an appended -o (hidden 32, 2 steps, no loader workers)
    Toy(
        r"pretrain .*-n (?P<name>\S+)",
        append=("-o", PRETRAIN_TOY),
        writes=(f"result/pretrain/{{name}}/states-{PRETRAIN_STEPS}.ckpt",),
    ),
    # downstream: evaluating the experiment its section trained, and the task list, as they are
    Toy(r"downstream -m evaluate -e (?P<exp>\S+)$", writes=("{exp}/results.json",)),
    Toy(r"downstream --list-tasks$"),
    # training 2 steps, evaluated at step 2 (-o appended)
    Toy(
        r"downstream (-m train )?-u .*-n (?P<name>\S+)",
        append=("-o", DOWNSTREAM_TOY),
        writes=("result/downstream/{name}/results.json",),
    ),
    # each probe stops after 2 steps of 1 epoch
    Toy(
        r"probe .*-n (?P<name>\S+)",
        append=("--max-steps", "2", "--epochs", "1"),
        writes=("result/probe/{name}/probe_results.json", "result/probe/{name}/probe_accuracy.png"),
    ),
    # attention over 2 utterances instead of the README's N
    Toy(
        r"attention .*-n (?P<name>\S+)",
        edits=((r"--num-utterances \d+", "--num-utterances 2"),),
        writes=("result/attention/{name}/attention_jsd.json", "result/attention/{name}/attention_jsd.png"),
    ),
    # the layer-weight plot of the experiment its folder holds, as it is
    Toy(r"plots layer-weights (?P<exp>\S+)$", writes=("{exp}/layer_weights.png",)),
    # the hub as it is: the published `aalbert` comes from a pre-filled cache (ReadmeRunner.env:
    # TORCH_HOME and AALBERT_OFFLINE=1), so nothing is downloaded
    Toy(r"hub (list|info \S+|download \S+)$"),
    # reading a corpus and printing what it holds: already toy-sized with the toy corpora
    Toy(r"corpus inspect "),
    # the synthetic corpus at the toy size of the data/synth40 fixture, which it then reuses
    Toy(
        r"corpus (synth|synthesize) ",
        edits=(
            (r"--speakers \d+", f"--speakers {SYNTH_TOY['speakers']}"),
            (r"--utterances \d+", f"--utterances {SYNTH_TOY['utterances']}"),
            (r"--seed \d+", f"--seed {SYNTH_TOY['seed']}"),
        ),
        append=(
            "--min-words",
            str(SYNTH_TOY["min_words"]),
            "--max-words",
            str(SYNTH_TOY["max_words"]),
            "--no-progress",
        ),
    ),
    # --- placeholders -------------------------------------------------------------------------------
    # an upstream checkpoint, and a pretraining run's checkpoint (whose name
    # test_readme_checkpoint_names_are_written_by_their_recipe checks): the toy pretraining's
    Placeholder(r"\bCKPT\b", "{ckpt}"),
    Placeholder(r"result/pretrain/\w+/states-\d+\.ckpt", "{ckpt}"),
    # corpora under /data, in every format: the tone corpus written in each layout
    Placeholder(r"(?<![\w./])/data/", "{data}/"),
    Placeholder(r"\[\.\.\.\]", "[{data}/LibriSpeech/dev-clean]"),
    # the synthetic corpus (made by the README's synth command; the fixture is made the same way)
    Placeholder(r"(?<![\w./])data/synth40\b", "{synth40}"),
    # the repository torch.hub.load reads hubconf.py from: this checkout
    Placeholder(r"path/to/aalbert", "{repo}"),
    Placeholder(r'(?<=torch\.hub\.load\()"\."', '"{repo}"'),
]

# README lines deliberately not run, with the reason
NOT_RUN = {
    "make demo": "the whole pipeline on a 40-speaker corpus (~13 min); tests/test_demo.py runs aalbert.demo at "
    "toy size",
    "make test": "runs the whole test suite, this test included",
    "aalbert probe | attention | plots | hub | corpus | demo ...": "a synopsis of the subcommands, not a command (test_readme_synopsis_names_real_subcommands checks it)",
}

# sections that continue another section's working folder, and why
SHARED_FOLDER = {
    "Analysis": "Downstream tasks"  # plots layer-weights of result/downstream/phone_aalbert, trained there
}


# ---------------------------------------------------------------------------------------------- README


@dataclass(frozen=True)
class Block:
    section: str  # the `## ` heading above it
    language: str  # bash or python
    lineno: int  # of the opening fence
    lines: tuple[str, ...]  # bash: one command per entry, as words joined by spaces; python: the code lines

    @property
    def folder_key(self) -> str:
        return SHARED_FOLDER.get(self.section, self.section)

    @property
    def id(self) -> str:
        return f"L{self.lineno}-{slug(self.section)}-{self.language}"


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def readme_blocks(text: str) -> list[Block]:
    blocks, section, fence = [], "", None
    for lineno, line in enumerate(text.splitlines(), 1):
        if fence is None and line.startswith("## "):
            section = line[3:].strip()
        elif fence is None and line.startswith("```"):
            fence, start, body = line[3:].strip(), lineno, []
        elif fence is not None and line.startswith("```"):
            if fence in ("bash", "sh", "shell", "console"):
                blocks.append(Block(section, "bash", start, tuple(bash_commands(body))))
            elif fence == "python":
                blocks.append(Block(section, "python", start, tuple(body)))
            fence = None
        elif fence is not None:
            body.append(line)
    assert fence is None, "README.md ends inside a fenced block"
    return blocks


def bash_commands(lines: list[str]) -> list[str]:
    """Commands of a bash block: ``\\`` continuations joined, ``#`` comments and blank lines dropped."""
    commands, pending = [], ""
    for line in lines:
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        words = shlex.split(pending + line, comments=True)
        pending = ""
        if words:
            commands.append(" ".join(words))
    return commands


BLOCKS = readme_blocks(README.read_text(encoding="utf-8"))


def first_match(kind: type, text: str) -> tuple | None:
    for rule in RULES:
        if isinstance(rule, kind):
            match = re.match(rule.pattern, text)
            if match:
                return rule, match
    return None


def tool_of_module(module: str) -> str:
    """``aalbert.hub`` -> ``hub``: the subcommand running that module, else the module's last name."""
    from aalbert.cli import COMMANDS

    served = {target.removesuffix(".__main__"): name for name, (target, *_) in COMMANDS.items()}
    return served.get(module, module.rsplit(".", 1)[-1])


def resolve(command: str) -> tuple[Program, re.Match, Toy, re.Match] | str:
    """The rules that run ``command``, or what is missing."""
    found = first_match(Program, command)
    if found is None:
        return "no Program rule knows how it starts"
    program, started = found
    tool = started.groupdict().get("tool") or tool_of_module(started["module"])
    toy = first_match(Toy, tool + command[started.end() :])
    if toy is None:
        return f"no Toy rule makes `{tool} ...` toy-sized"
    return (program, started, *toy)


def fill(template: str, fx: ReadmeFixtures, **groups: str) -> str:
    return template.format(python=sys.executable, repo=REPO, data=fx.data, synth40=fx.synth40, ckpt=fx.ckpt, **groups)


def replace_placeholders(text: str, fx: ReadmeFixtures) -> str:
    """One pass over ``text``, so a fixture path put in is never itself taken for a placeholder."""
    placeholders = [rule for rule in RULES if isinstance(rule, Placeholder)]
    combined = "|".join(f"(?P<p{i}>{rule.pattern})" for i, rule in enumerate(placeholders))

    def value(match: re.Match) -> str:
        index = int(match.lastgroup[1:])
        return fill(placeholders[index].value, fx)

    return re.sub(combined, value, text)


def toy_argv(command: str, fx: ReadmeFixtures) -> tuple[list[str], list[Path]]:
    """The command as run here, and the files it must write (relative to its working folder)."""
    found = resolve(command)
    assert not isinstance(found, str), (
        f"README command {command!r}: {found}; add a rule to RULES in "
        "tests/test_readme.py (or list it in NOT_RUN with the reason)"
    )
    program, started, toy, matched = found
    args = command[started.end() :]
    for pattern, replacement in toy.edits:
        args = re.sub(pattern, replacement, args)
    groups = {k: v for k, v in started.groupdict().items() if v is not None}
    argv = [fill(word, fx, **groups) for word in program.argv] + shlex.split(replace_placeholders(args, fx))
    argv += [fill(word, fx) for word in (*toy.append, *program.append)]
    writes = [
        Path(fill(path, fx, **{k: v for k, v in matched.groupdict().items() if v is not None})) for path in toy.writes
    ]
    return argv, writes


# ------------------------------------------------------------------------------------ fast checks


def test_readme_has_commands_to_check():
    assert sum(b.language == "bash" for b in BLOCKS) >= 5 and any(b.language == "python" for b in BLOCKS)


def test_every_readme_command_has_a_rule():
    unknown = {c: resolve(c) for b in BLOCKS if b.language == "bash" for c in b.lines if c not in NOT_RUN}
    unknown = {c: problem for c, problem in unknown.items() if isinstance(problem, str)}
    assert not unknown, (
        "README commands no rule runs: add rules to RULES in tests/test_readme.py (or list them in "
        f"NOT_RUN with the reason): {unknown}"
    )
    listed = {c for b in BLOCKS if b.language == "bash" for c in b.lines}
    assert not set(NOT_RUN) - listed, f"NOT_RUN lists lines the README no longer has: {set(NOT_RUN) - listed}"
    assert set(SHARED_FOLDER) | set(SHARED_FOLDER.values()) <= {b.section for b in BLOCKS}


def test_readme_synopsis_names_real_subcommands():
    from aalbert.cli import COMMANDS

    synopsis = next(line for line in NOT_RUN if line.startswith("aalbert probe |"))
    named = [word.strip().split()[-1] for word in synopsis.removeprefix("aalbert ").removesuffix("...").split("|")]
    assert named and set(named) <= set(COMMANDS), f"{synopsis!r} names {set(named) - set(COMMANDS)}, not commands"
    assert set(COMMANDS) - {"pretrain", "downstream"} <= set(named), "a subcommand missing from the README synopsis"


def test_readme_checkpoint_names_are_written_by_their_recipe():
    """``result/pretrain/NAME/states-N.ckpt``: a checkpoint the README's own ``-n NAME`` pretraining keeps."""
    import yaml

    from aalbert.config import find_recipe

    text = README.read_text(encoding="utf-8")
    named = re.findall(r"result/pretrain/(\w+)/states-(\d+)\.ckpt", text)
    assert named, "the README names no pretraining checkpoint: drop this test and its placeholder"
    for name, step in named:
        recipes = {
            re.search(r" -c (\S+)", c)[1]
            for b in BLOCKS
            if b.language == "bash"
            for c in b.lines
            if re.search(rf"\bpretrain(\.py)? .*-n {name}( |$)", c) and " -c " in c
        }
        assert recipes, f"README: states-{step}.ckpt of result/pretrain/{name}, but no pretraining command -n {name}"
        for recipe in recipes:
            config = yaml.safe_load(find_recipe(recipe).read_text())
            total, every, keep = (
                config["optim"]["total_steps"],
                config["log"]["save_every"],
                config["log"]["keep_last"],
            )
            kept = sorted({*range(every, total + 1, every), total})[-keep:]
            assert int(step) in kept, (
                f"README names result/pretrain/{name}/states-{step}.ckpt but {recipe} "
                f"({total} steps, a checkpoint every {every}, keeping {keep}) leaves {kept}"
            )


# ------------------------------------------------------------------------------------ running them


class ReadmeRunner:
    """Runs the bash blocks in the background, two working folders at a time (each command is
    single-threaded and mostly imports): a folder's blocks run one after the other in README order.
    Python blocks run in the test itself, once the blocks before them in their folder are done."""

    WORKERS = 2

    def __init__(self, root: Path, fx: ReadmeFixtures, wanted: list[Block]):
        self.root, self.fx = root, fx
        # made once, here: the python blocks' monkeypatch changes os.environ while commands start
        path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))  # this checkout's aalbert
        self.env = {
            **os.environ,
            "TORCH_HOME": str(fx.torch_home),
            "AALBERT_OFFLINE": "1",
            "OMP_NUM_THREADS": "1",
            "MPLBACKEND": "Agg",
            "PYTHONPATH": path,
        }
        self.done: dict[Block, Future] = {}
        chains: dict[str, list[Block]] = {}
        for block in BLOCKS:  # a wanted block, and the blocks before it in its folder
            if block.language == "bash" and any(
                w.folder_key == block.folder_key and BLOCKS.index(w) >= BLOCKS.index(block) for w in wanted
            ):
                chains.setdefault(block.folder_key, []).append(block)
                self.done[block] = Future()
        self.pool = ThreadPoolExecutor(self.WORKERS)
        for chain in sorted(chains.values(), key=lambda blocks: -sum(map(len_to_run, blocks))):  # longest first
            self.pool.submit(self.run_chain, chain)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    def folder(self, block: Block) -> Path:
        folder = self.root / slug(block.folder_key)
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def run_chain(self, chain: list[Block]) -> None:
        failed = None
        for block in chain:
            if failed is not None:
                self.done[block].set_exception(AssertionError(f"not run: {failed.id} before it in its folder failed"))
                continue
            try:
                for command in block.lines:
                    if command not in NOT_RUN:
                        self.run_command(command, self.folder(block))
            except BaseException as err:  # noqa: BLE001 - reported by the block's test
                failed = block
                self.done[block].set_exception(err)
            else:
                self.done[block].set_result(None)

    def wait_for(self, block: Block) -> None:
        """Re-raises here what made the block's commands fail."""
        self.done[block].result()

    def run_command(self, command: str, cwd: Path) -> None:
        argv, writes = toy_argv(command, self.fx)
        before = {p: (cwd / p).stat().st_mtime_ns for p in writes if (cwd / p).is_file()}
        proc = subprocess.run(argv, cwd=cwd, env=self.env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S)
        said = (
            f"README command: {command}\nran: {shlex.join(argv)}\nin {cwd}\n"
            f"stdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-3000:]}"
        )
        assert proc.returncode == 0, f"exit code {proc.returncode}\n{said}"
        unwritten = [str(p) for p in writes if not (cwd / p).is_file() or (cwd / p).stat().st_mtime_ns == before.get(p)]
        assert not unwritten, f"it did not write {', '.join(unwritten)}\n{said}"

    def run_python(self, block: Block, monkeypatch) -> None:
        for earlier in BLOCKS[: BLOCKS.index(block)]:
            if earlier.folder_key == block.folder_key and earlier in self.done:
                self.wait_for(earlier)
        code = replace_placeholders("\n".join(block.lines), self.fx)
        for name in ("TORCH_HOME", "AALBERT_OFFLINE"):  # the published models from the pre-filled cache
            monkeypatch.setenv(name, self.env[name])
        monkeypatch.chdir(self.folder(block))  # the background commands name their folder: chdir is safe
        namespace: dict = {"__name__": "__readme__"}
        exec(compile(code, f"README.md block at line {block.lineno}", "exec"), namespace)  # noqa: S102
        model, out = namespace.get("model"), namespace.get("out")
        if model is not None and isinstance(out, dict) and "hidden_states" in out:
            # what both python blocks say: the input representation, then every layer
            assert len(out["hidden_states"]) == model.num_layers + 1, f"README.md block at line {block.lineno}"


def len_to_run(block: Block) -> int:
    return sum(command not in NOT_RUN for command in block.lines)


@pytest.fixture(scope="module")
def readme_runner(tmp_path_factory, request):
    wanted = [
        item.callspec.params["block"]
        for item in request.session.items
        if getattr(item, "function", None) is test_readme_block_runs
    ]
    fx = build_readme_fixtures(tmp_path_factory.mktemp("readme_fixtures"))
    runner = ReadmeRunner(tmp_path_factory.mktemp("readme_runs"), fx, wanted)
    yield runner
    runner.close()


# a block of NOT_RUN lines alone (`make demo`, `make test`) has nothing to run: not a test case
RUNNABLE = [b for b in BLOCKS if b.language == "python" or len_to_run(b)]


@pytest.mark.slow
@pytest.mark.parametrize("block", RUNNABLE, ids=[b.id for b in RUNNABLE])
def test_readme_block_runs(block, readme_runner, monkeypatch):
    if block.language == "python":
        readme_runner.run_python(block, monkeypatch)
    else:
        readme_runner.wait_for(block)
