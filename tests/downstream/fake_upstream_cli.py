"""run_downstream.py with every upstream name answered by the test's FakeUpstream.

Used by tests that need a separate process (plugins on PYTHONPATH, torchrun DDP). A first argument
``--stop-after-splits`` makes the process stop itself (SIGSTOP) right after it writes the split files,
so that a test's signal lands at that moment whatever the machine's load (a test polling for the
file and then freezing the process could not promise that).
"""

import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from downstream_fakes import FakeUpstream  # noqa: E402

import aalbert.downstream.runner as runner  # noqa: E402
from aalbert.downstream.cli import main  # noqa: E402

runner.load_upstream_by_name = lambda name, ckpt: FakeUpstream()


def stop_after_splits() -> None:
    write = runner.write_split_files

    def write_then_stop(*args, **kwargs):
        write(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGSTOP)  # until the test's SIGCONT

    runner.write_split_files = write_then_stop


if __name__ == "__main__":
    argv = sys.argv[1:]
    if argv[:1] == ["--stop-after-splits"]:
        stop_after_splits()
        argv = argv[1:]
    sys.exit(main(argv))
