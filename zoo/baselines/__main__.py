"""``python -m zoo.baselines``: refit the baselines into ``results/baselines.json``."""
import sys

from zoo.baselines.runner import main

sys.exit(main())
