"""The errors a user can cause, caught only at the edges (CLI, SMTP, web).

    ListservError            a user's mistake: print one line, exit non-zero
    ├── ConfigError          the config file is missing, malformed or wrong
    ├── NotFound             no such list, member or held post
    ├── AlreadyExists        a list or member that is there already
    └── InvalidInput         a bad address, CSV row, label or option

Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class ListservError(Exception):
    """A problem the user can fix; its message is one human sentence."""


class ConfigError(ListservError):
    pass


class NotFound(ListservError):
    pass


class AlreadyExists(ListservError):
    pass


class InvalidInput(ListservError):
    pass
