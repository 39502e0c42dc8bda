import sys

from zoo.cli import main

# Recorded in model cards ("command": "zoo train ...") instead of "__main__.py train ...".
sys.argv[0] = "zoo"
sys.exit(main())
