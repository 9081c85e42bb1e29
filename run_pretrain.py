#!/usr/bin/env python
"""Pretrain Mockingjay / Audio ALBERT: see ``aalbert.pretrain.cli`` (``-h`` lists the flags)."""

import sys

from aalbert.pretrain.cli import main

if __name__ == "__main__":
    sys.exit(main())
