import sys

from evokit.cli import main

sys.exit(main())
