"""run_downstream.py with every upstream name answered by the test's FakeUpstream.

Used by tests that need a separate process (plugins on PYTHONPATH, torchrun DDP).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from downstream_fakes import FakeUpstream  # noqa: E402

import aalbert.downstream.runner as runner  # noqa: E402
from aalbert.downstream.cli import main  # noqa: E402

runner.load_upstream_by_name = lambda name, ckpt: FakeUpstream()

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
