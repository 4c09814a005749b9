"""The one exception type that the command line turns into a one-line message.

Library code raises ``UserError`` for anything a user can fix (a missing file, a malformed
line, an option out of range); the CLI prints ``easylm-commit: error: <message>`` and exits
with status 2, without a traceback unless ``--debug`` is given. Anything else is a bug and
keeps its traceback.
"""


class UserError(Exception):
    """A problem with the user's input: the message names the file, line, field or option."""


class InvalidRecord(UserError):
    """A record that cannot be used (a field missing or of the wrong type, a line that is not
    JSON, text that is not valid Unicode); the message names the field. Where records are
    read, one policy applies (``records.BadRecords``): skip and count, or stop on the first
    one with ``strict``."""
