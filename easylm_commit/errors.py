"""The one exception type that the command line turns into a one-line message.

Library code raises ``UserError`` for anything a user can fix (a missing file, a malformed
line, an option out of range); the CLI prints ``easylm-commit: error: <message>`` and exits
with status 2, without a traceback unless ``--debug`` is given. Anything else is a bug and
keeps its traceback.
"""


class UserError(Exception):
    """A problem with the user's input: the message names the file, line, field or option."""
