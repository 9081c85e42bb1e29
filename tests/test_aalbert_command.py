"""The `aalbert` command: every subcommand reachable, one spelling per flag, examples in --help."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from aalbert import cli, command_flags
from aalbert.distributed import resolve_device
from aalbert.errors import UsageError

REPO = Path(__file__).resolve().parents[1]

LONG_RUNNING = ("pretrain", "downstream", "probe", "attention")
# s3prl's meanings, the same in every subcommand that has the idea
SHARED_FLAGS = (
    "-u UPSTREAM",
    "-k UPSTREAM_CKPT",
    "-n NAME",
    "-p EXPDIR",
    "--device",
    "--threads",
    "--no-progress",
    "--debug",
)


def help_text(capsys, *argv: str) -> str:
    with pytest.raises(SystemExit) as done:
        cli.main(list(argv))
    assert done.value.code == 0
    return capsys.readouterr().out


def test_top_level_help_lists_every_command(capsys):
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in cli.COMMANDS:
        assert f"  {name} " in out
    assert cli.main([]) == 2 and cli.main(["nope"]) == 2


@pytest.mark.parametrize("command", sorted(cli.COMMANDS))
def test_every_subcommand_help_ends_with_examples(command, capsys):
    out = help_text(capsys, command, "--help")
    assert "examples:" in out and f"aalbert {command}" in out.split("examples:")[1]


@pytest.mark.parametrize("command", LONG_RUNNING)
def test_long_running_commands_share_one_spelling(command, capsys):
    out = help_text(capsys, command, "--help")
    for flag in SHARED_FLAGS:
        if command == "pretrain" and flag.startswith(("-u", "-k")):
            continue  # pretraining builds the upstream: -u picks the family, there is no checkpoint to load
        assert flag in out, f"aalbert {command} --help lacks {flag}"


def test_runtime_flags_apply_to_the_process():
    parser = command_flags.command_parser("x", "x", ["x"])
    command_flags.add_runtime_flags(parser)
    threads = torch.get_num_threads()
    try:
        command_flags.apply_runtime_flags(parser.parse_args(["--threads", "1", "--no-progress"]))
        assert torch.get_num_threads() == 1
        with pytest.raises(UsageError, match="--threads must be at least 1"):
            command_flags.apply_runtime_flags(parser.parse_args(["--threads", "0"]))
    finally:
        torch.set_num_threads(threads)
    assert resolve_device("cpu").type == "cpu" and resolve_device("auto").type in ("cpu", "cuda")
    if not torch.cuda.is_available():
        with pytest.raises(UsageError, match="no CUDA device"):
            resolve_device("cuda")


def test_bad_threads_is_a_usage_error(capsys):
    assert cli.main(["downstream", "--threads", "0", "--list-tasks"]) == 2
    assert "--threads must be at least 1" in capsys.readouterr().err


def test_a_reader_that_stops_reading_is_not_an_error():
    """`aalbert hub info aalbert | head -0`: the pipe closes before the command writes."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "aalbert", "hub", "info", "aalbert"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait() == 1
    assert err == ""  # no traceback, no "BrokenPipeError raised from ..."


def run_aalbert(*argv: str, script: str | None = None) -> subprocess.CompletedProcess:
    """``python -m aalbert ARGV`` (or the checkout's ``script`` alias) in a fresh process."""
    command = [sys.executable, str(REPO / script)] if script else [sys.executable, "-m", "aalbert"]
    return subprocess.run([*command, *argv], capture_output=True, text=True, cwd=REPO, timeout=120)


NEVER_IMPORTED = ("torch", "torchaudio", "matplotlib", "lhotse", "scipy", "aalbert.hub")


@pytest.mark.parametrize(
    "argv", [(name, "--help") for name in sorted(cli.COMMANDS)] + [("downstream", "--list-tasks"), ("hub", "list")]
)
def test_parsing_never_imports_torch(argv):
    """--help (and --list-tasks) answer before any heavy import: a command's parser is torch-free.
    So is `aalbert hub list` (issue 20: under 2 s): the hub's names and kinds, the pretrained table,
    the random models' configs, their parameter counts and torch's hub folder are read torch-free."""
    probe = (
        "import sys\n"
        "from aalbert.cli import main\n"
        "try:\n"
        f"    code = main({list(argv)!r})\n"
        "except SystemExit as done:\n"
        "    code = done.code\n"
        f"heavy = [m for m in {NEVER_IMPORTED!r} if m in sys.modules]\n"
        "print('exit', code, 'heavy', heavy, file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert "exit 0 heavy []" in proc.stderr, proc.stderr[-2000:]
    if argv[-1] == "--list-tasks":
        assert "phone_linear" in proc.stdout.split()
    if argv == ("hub", "list"):
        assert "aalbert_3l_random" in proc.stdout and "cache:" in proc.stdout


def test_errors_are_reported_under_the_name_invoked():
    for argv, script, prog in (
        (("downstream", "-m", "evaluate"), None, "aalbert downstream"),
        (("-m", "evaluate"), "run_downstream.py", "run_downstream.py"),
        (("pretrain", "-u", "aalbert"), None, "aalbert pretrain"),
        (("-u", "aalbert"), "run_pretrain.py", "run_pretrain.py"),
    ):
        proc = run_aalbert(*argv, script=script)
        assert proc.returncode == 2 and proc.stderr.startswith(f"{prog}: error: "), (argv, proc.stderr[-2000:])
    for argv, script, prog in (  # argparse's own usage errors
        (("probe", "--task", "nope"), None, "aalbert probe"),
        (("--task", "nope"), "run_probe.py", "run_probe.py"),
        (("attention",), None, "aalbert attention"),
        (("hub", "info"), None, "aalbert hub info"),
    ):
        proc = run_aalbert(*argv, script=script)
        assert proc.returncode == 2 and f"\n{prog}: error: " in proc.stderr, (argv, proc.stderr[-2000:])


def test_a_checkpoint_loader_without_a_checkpoint_names_the_flag(capsys):
    from aalbert import hub
    from aalbert.errors import CheckpointNeededError, report_error

    for name in ("mockingjay_local", "aalbert_url"):
        with pytest.raises(CheckpointNeededError, match="needs ckpt=") as raised:  # torch.hub users pass ckpt=
            hub.load_upstream(name)
        assert report_error(raised.value, "aalbert probe") == 1
        err = capsys.readouterr().err
        assert err.startswith(f"aalbert probe: error: -u {name} loads a checkpoint: give the ") and "-k CKPT" in err
        assert "ckpt=" not in err


def test_the_probe_command_offers_the_tasks_probing_runs():
    """`aalbert probe --task` choices are read torch-free (probe_config); the run maps each to its expert."""
    from aalbert.analysis.probe_command import build_parser
    from aalbert.analysis.probe_config import PROBING_TASKS
    from aalbert.analysis.probing import probing_expert
    from aalbert.downstream.expert import Expert

    (task_flag,) = [a for a in build_parser()._actions if a.dest == "task"]
    assert sorted(task_flag.choices) == sorted(PROBING_TASKS) == ["phone", "speaker"]
    for task in PROBING_TASKS:
        assert issubclass(probing_expert(task), Expert)
