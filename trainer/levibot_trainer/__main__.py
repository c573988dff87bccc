"""``python -m levibot_trainer {train,seed-data,schema}`` (the operator's Job runs ``train``)."""

import sys

from levibot_trainer.cli import main

if __name__ == "__main__":
    sys.exit(main())
