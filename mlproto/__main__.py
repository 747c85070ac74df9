"""`python -m mlproto ...`: the same as the `ml-proto` command."""

import sys

from mlproto.cli import main

sys.exit(main())
