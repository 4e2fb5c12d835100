import sys

from kafkette.broker.cli import main

sys.exit(main())
