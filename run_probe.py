#!/usr/bin/env python
"""Per-layer phone / speaker probing of a frozen upstream (see aalbert.analysis.probing)."""

import sys

from aalbert.analysis.probe_command import main

if __name__ == "__main__":
    sys.exit(main())
