"""``python -m tools.devstack`` (``make run``)."""

import sys

from tools.devstack.stack import main

sys.exit(main())
