"""BigQuery's and Google's client errors, worded as one readable line."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

from ecom.targets.base import TargetError


class BigQueryError(Exception):
    """A BigQuery job failed; the message is BigQuery's own, on one line."""


def message_of(error: BaseException) -> str:
    """BigQuery's own message on one line, without the HTTP verb and URL the client puts first."""
    errors = getattr(error, "errors", None) or []
    msg = ""
    if errors and isinstance(errors[0], dict):
        msg = errors[0].get("message", "")
    msg = msg or getattr(error, "message", None) or str(error) or type(error).__name__
    msg = re.sub(r"^(GET|POST|PUT|PATCH|DELETE) \S+: ", "", str(msg).strip())
    return msg.splitlines()[0] if msg else type(error).__name__


def describe_error(error: BaseException, action: str | None = None) -> str | None:
    """One line for an error of Google's client libraries (None for any other exception)."""
    from google.api_core import exceptions as gexc
    from google.auth import exceptions as auth_exc

    during = f" while {action}" if action else ""
    if isinstance(error, auth_exc.RefreshError | gexc.Unauthenticated):
        return (
            f"Google credentials were refused{during} ({message_of(error)}): run "
            "`gcloud auth application-default login` again or check GOOGLE_APPLICATION_CREDENTIALS"
        )
    if isinstance(error, gexc.Forbidden):
        return f"permission denied{during}: {message_of(error)}"
    if isinstance(error, gexc.NotFound):
        return f"not found{during}: {message_of(error)}"
    # gRPC's UNAVAILABLE (the Storage Read API's endpoint not reached) and REST's 503 (the service
    # itself, for a moment) share this type: the advice covers both
    if isinstance(error, gexc.ServiceUnavailable):
        return (
            f"BigQuery is unavailable or cannot be reached{during}: {message_of(error)}; try again later, "
            "and check the network and the endpoint settings if it persists"
        )
    if isinstance(error, gexc.GoogleAPICallError):
        return f"BigQuery error{during}: {message_of(error)}"
    if isinstance(error, gexc.RetryError):  # gave up retrying a connection error
        return f"cannot reach BigQuery{during}: {message_of(error.cause or error)}"
    if isinstance(error, auth_exc.GoogleAuthError):
        return f"Google authentication failed{during}: {message_of(error)}"
    return None


@contextlib.contextmanager
def readable_errors(action: str) -> Iterator[None]:
    """Turn the client's exceptions for reaching BigQuery into one-line TargetErrors."""
    try:
        yield
    except Exception as e:
        message = describe_error(e, action)
        if message is None and isinstance(e, ConnectionError | OSError):
            message = f"cannot reach BigQuery while {action}: {message_of(e)}"
        if message is None:
            raise
        raise TargetError(message) from None
