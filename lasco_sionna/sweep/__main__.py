"""``python -m lasco_sionna.sweep CONFIG``"""
import sys

from lasco_sionna.sweep.cli import main

sys.exit(main())
