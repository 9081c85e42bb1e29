#!/usr/bin/env python
"""Attention Jensen-Shannon divergence between every pair of layers (see aalbert.analysis.attention)."""

import sys

from aalbert.analysis.attention_command import main

if __name__ == "__main__":
    sys.exit(main())
