import sys

from depthgraph.cli import main

sys.exit(main())
