"""`python -m nlpkit.cli`: the `nlpkit` command."""

import sys

from . import main

sys.exit(main())
