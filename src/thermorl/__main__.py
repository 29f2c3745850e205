"""`python -m thermorl`: the same as the `thermorl` command."""

import sys

from .cli import main

sys.exit(main())
