"""Errors that carry a message telling the user what to change."""


class UserInputError(ValueError):
    """Bad input from a user: the message names what to change. Nothing was written."""


class NotFoundError(LookupError):
    """A named thing (job, target, device, best config) does not exist."""


class ConflictError(RuntimeError):
    """The request is valid but the thing is not in a state that allows it (e.g. cancelling a finished job)."""


class QuotaError(RuntimeError):
    """A per-account or per-key limit is spent; ``retry_after_s`` says when to try again."""

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
