"""``python -m levibot_common.seed``: load synthetic ticks (see ``levibot_common.seed.cli``)."""

import sys

from levibot_common.seed.cli import main

sys.exit(main())
