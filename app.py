"""Launcher for the msiqa web app: `python app.py [flags]` is `msiqa serve [flags]`."""

import sys

from msiqa.web.app import main

if __name__ == "__main__":
    sys.exit(main())
