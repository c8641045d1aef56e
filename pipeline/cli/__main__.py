"""`python -m pipeline.cli`: the same as the `signals` command."""

from . import run

run()
