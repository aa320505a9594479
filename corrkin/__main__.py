import sys

from corrkin.cli import main

sys.exit(main())
