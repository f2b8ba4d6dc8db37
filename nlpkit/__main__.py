"""`python -m nlpkit`: the `nlpkit` command."""

import sys

from .cli import main

sys.exit(main())
