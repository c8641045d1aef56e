"""Run the real `signals` application in-process, as the command tests do."""

from click.testing import CliRunner, Result

from pipeline.cli import app


def invoke(*argv) -> Result:
    """`signals ARGV...` through Click's test runner: stdout in `.stdout`, stderr in `.stderr`, the command's
    return value in `.return_value`. Library errors (SignalsError) propagate, so tests can name them."""
    return CliRunner().invoke(app, [str(a) for a in argv], catch_exceptions=False, standalone_mode=False)
