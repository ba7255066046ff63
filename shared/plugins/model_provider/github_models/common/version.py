"""The package's one version string: a leaf that the User-Agent, telemetry, the wheel and
tools read.

Between releases it is the next version (CHANGELOG.md [Unreleased]).
"""

__version__ = "0.3.0.dev0"
