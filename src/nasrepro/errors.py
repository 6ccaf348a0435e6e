"""The one exception type users see: a single line naming the file, key or value at fault."""


class NasReproError(Exception):
    """Bad input or a failed check; its message is one line meant for the user."""
