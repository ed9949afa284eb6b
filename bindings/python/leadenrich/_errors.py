"""leadenrich's exceptions, made from the C++ status codes through one table."""
from typing import Optional


class Error(Exception):
    """Base of every leadenrich error."""

    def __init__(self, message: str, *, code: str = "unknown", http_status: int = 0,
                 provider: str = "", retry_after: Optional[float] = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.http_status = http_status
        self.provider = provider
        self.retry_after = retry_after


class InvalidInputError(Error):
    """Bad input: a malformed lead, an invalid value, a request the provider rejected (400)."""


class NotFoundError(Error):
    """The campaign, lead or run does not exist (404)."""


class AuthenticationError(Error):
    """A credential is missing, wrong or expired (401, 403)."""


class RateLimitError(Error):
    """The provider asked us to slow down (429); ``retry_after`` says how long, in seconds."""


class UnavailableError(Error):
    """The provider is down, unreachable, timed out, or answered something unreadable."""


class ConfigurationError(Error):
    """Configuration is missing or refused (a variable not set, credits exhausted)."""


class CancelledError(Error):
    """The run was cancelled."""


class StoreError(Error):
    """The store file is damaged, locked, a directory or from a newer version; the message names
    the path and what to do. Whatever its ``code``, retrying the API does not help."""


_BY_CODE = {
    "invalid_argument": InvalidInputError,
    "not_found": NotFoundError,
    "unauthenticated": AuthenticationError,
    "permission_denied": AuthenticationError,
    "resource_exhausted": RateLimitError,
    "unavailable": UnavailableError,
    "deadline_exceeded": UnavailableError,
    "data_loss": UnavailableError,
    "failed_precondition": ConfigurationError,
    "cancelled": CancelledError,
}


def from_status(code: str, message: str, http_status: int, provider: str, retry_after: Optional[float]) -> Error:
    """The exception for a C++ Status (used by the compiled module)."""
    cls = StoreError if provider == "store" else _BY_CODE.get(code, Error)
    return cls(message, code=code, http_status=http_status, provider=provider, retry_after=retry_after)
