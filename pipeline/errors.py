"""Every error the pipeline raises on purpose, in one tree.

    SignalsError                  base; the CLI prints str(error) on one line, exits 1
    ├── ConfigError               a settings file or environment variable is wrong
    │   └── ParameterError        a served run asks for a path its deployment was not registered with
    ├── ScenarioError             a scenario pack is missing or malformed
    ├── InputError                a bad input file: names the file and line
    │   └── LabelError            a label file fails validation
    ├── FeedError                 one feed could not be fetched or parsed
    │                             (recorded per feed; a run never stops for it);
    │                             its `kind` says whether trying again may help
    ├── ModelError                no model, or a model that must not be loaded
    │   └── ModelIntegrityError   its bytes do not match the registry
    ├── StoreError                the store is locked by another run, or unusable
    └── InstallError              the installed project lacks a part it declares (a flow's entry point)

Messages say what to check next.
"""

from __future__ import annotations

from enum import Enum


class SignalsError(Exception):
    """Base class: anything the CLI reports as one line and exit code 1."""


class ConfigError(SignalsError):
    pass


class ParameterError(ConfigError):
    """A flow run's parameter refused: `ParameterError(name, reason)` reads "parameter 'name': reason"."""

    def __init__(self, name: str, reason: str):
        self.name, self.reason = name, reason
        super().__init__(f"parameter '{name}': {reason}")


class ScenarioError(SignalsError):
    """A pack refused. `reason` is the message without the file; `at` = (table, index, key) says where in
    the TOML the problem is (index None for a plain table), so `signals scenario check` can name the line."""

    def __init__(self, message: str, reason: str | None = None, at: tuple | None = None):
        super().__init__(message)
        self.reason, self.at = reason or message, at


class InputError(SignalsError):
    """Bad input, located: `InputError(path, line, reason)` reads 'path:line: reason'."""

    def __init__(self, path: object, line: int | None, reason: str):
        self.path, self.line, self.reason = str(path), line, reason
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {reason}")


class LabelError(InputError):
    pass


class ErrorKind(str, Enum):
    """Whether the same request may succeed if tried again, decided where the error is raised."""

    TRANSIENT = "transient"  # a timeout, a dropped connection, a 5xx: the server may answer next time
    PERMANENT = "permanent"  # a 4xx, a refused scheme, a body over the cap, a broken feed: the same every time


class FeedError(SignalsError):
    def __init__(self, feed: str, reason: str, kind: ErrorKind = ErrorKind.PERMANENT):
        self.feed, self.reason, self.kind = feed, reason, kind
        super().__init__(f"feed {feed}: {reason}")


class ModelError(SignalsError):
    pass


class ModelIntegrityError(ModelError):
    pass


class StoreError(SignalsError):
    pass


class InstallError(SignalsError):
    """The project is installed without something pyproject.toml declares; reinstalling it mends that."""
