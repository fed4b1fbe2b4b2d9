"""``python3 -m lab PROGRAM ...`` (also installed as ``lab PROGRAM ...`` on every host)."""

import sys

from lab.apps import main

sys.exit(main())
