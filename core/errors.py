"""Errors that carry a message telling the user what to change."""


class UserInputError(ValueError):
    """Bad input from a user: the message names what to change. Nothing was written."""


class NotFoundError(LookupError):
    """A named thing (job, target, device, best config) does not exist."""
