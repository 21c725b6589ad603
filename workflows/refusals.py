"""What a validator raises to refuse a decision: the API answers each with its own status and the message."""

from temporalio.exceptions import ApplicationError


class OutOfTurn(ApplicationError):
    """Raised by validators; the API turns it into 409 with this message."""

    def __init__(self, message: str):
        super().__init__(message, type="OutOfTurn", non_retryable=True)


class WrongActor(ApplicationError):
    """Raised by validators; the API turns it into 403 with this message."""

    def __init__(self, message: str):
        super().__init__(message, type="WrongActor", non_retryable=True)


class BadField(ApplicationError):
    """Raised by validators for a value the case cannot take; the API turns it into 422 with this message (it names the field)."""

    def __init__(self, message: str):
        super().__init__(message, type="BadField", non_retryable=True)
