"""`python -m bot.safety.train --build`: train the classifier layer (see classifier.py)."""

import sys

from .classifier import main

if __name__ == "__main__":
    sys.exit(main())
