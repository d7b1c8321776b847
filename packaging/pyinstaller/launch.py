"""Entry script of the PyInstaller bundle: the same ``main`` as the ``landscape-studio`` console script."""

import multiprocessing
import sys

from app.__main__ import main

if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(main())
