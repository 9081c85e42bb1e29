"""``python -m aalbert COMMAND ...``: see aalbert.cli."""

import sys

from aalbert.cli import main

sys.exit(main())
