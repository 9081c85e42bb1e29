#!/usr/bin/env python
"""Train or evaluate a downstream task; see aalbert/downstream/command.py for the flags."""

import sys

from aalbert.downstream.command import main

if __name__ == "__main__":
    sys.exit(main())
