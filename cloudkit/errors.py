"""Every exception a cloudkit user can catch.

``CloudkitError`` is the root. Errors answered by a provider's API derive from
``ProviderError`` and carry the HTTP status, the provider's own message and a short,
redacted excerpt of the body. No raw ``KeyError``, ``JSONDecodeError`` or ``requests``
exception is meant to escape a cloudkit call: each is translated into one of these.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover  (types only: errors imports nothing of cloudkit)
    from cloudkit.deployment import Deployment
    from cloudkit.models import Node

__all__ = [
    "ActionNotAllowedError",
    "CloudkitError",
    "ConfigurationError",
    "ConflictError",
    "CreateNodeError",
    "DeploymentError",
    "DriverNotFoundError",
    "ForbiddenError",
    "InvalidCredsError",
    "MalformedResponseError",
    "NetworkError",
    "NotFoundError",
    "NotSupportedError",
    "OutcomeUnknownError",
    "ProviderError",
    "RateLimitError",
    "RedirectError",
    "RequestTimeoutError",
    "SSHAuthenticationError",
    "SSHCommandTimeoutError",
    "SSHConnectError",
    "SSHError",
    "SSHHostKeyError",
    "ServerError",
    "TLSError",
    "ValidationError",
    "WaitTimeoutError",
]

EXCERPT_CHARS = 300


def excerpt(text: str | bytes | None, limit: int = EXCERPT_CHARS) -> str:
    """Return at most ``limit`` characters of ``text`` on one line, for error messages."""
    if text is None:
        return ""
    if isinstance(text, bytes):
        text = text[: limit * 4].decode("utf-8", "replace")
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


class CloudkitError(Exception):
    """Root of every error cloudkit raises on purpose.

    Every cloudkit error pickles (to come back from a worker process) with its class and
    attributes; a node it carries travels without its driver (and so without credentials)
    and without passwords in ``extra``.
    """

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_error, (type(self), self.args, _portable(self.__dict__, 0)))


class ConfigurationError(CloudkitError, ValueError):
    """Bad local configuration: a pricing file, a config file, an argument combination."""


class DriverNotFoundError(CloudkitError, LookupError):
    """``get_driver`` was asked for a provider nobody registered."""


class NotSupportedError(CloudkitError, NotImplementedError):
    """The driver does not implement this part of the contract."""

    def __init__(self, driver: str, method: str, reason: str | None = None) -> None:
        self.driver = driver
        self.method = method
        self.reason = reason or f"the {driver} driver does not implement {method}()"
        super().__init__(self.reason)


class ActionNotAllowedError(CloudkitError):
    """An action was asked for a node whose state does not allow it (no request was sent)."""

    def __init__(self, action: str, node_id: str, state: str, allowed: Iterable[str]) -> None:
        self.action = action
        self.node_id = node_id
        self.state = state
        self.allowed = sorted(allowed)
        allowed_text = ", ".join(self.allowed) if self.allowed else "none"
        super().__init__(
            f"{action} is not allowed on node {node_id} while it is {state}; "
            f"allowed in that state: {allowed_text} (pass ex_force=True to send it anyway)"
        )


class ProviderError(CloudkitError):
    """The provider answered with an error (or an unusable answer).

    ``status`` is the HTTP status (``None`` when no answer was received or the error was
    found client-side), ``message`` the provider's own text, ``code`` its short error id
    where it has one, ``body`` a short excerpt of the response body.
    """

    def __init__(
        self,
        message: str,
        status: int | None = None,
        *,
        code: str | None = None,
        body: str | bytes | None = None,
        driver: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message
        self.status = status
        self.code = code
        self.body = excerpt(body)
        self.driver = driver
        self.headers = dict(headers or {})
        super().__init__(message)

    def __str__(self) -> str:
        parts = []
        if self.driver:
            parts.append(f"[{self.driver}]")
        if self.status is not None:
            parts.append(f"HTTP {self.status}:")
        parts.append(self.message or "(no message)")
        if self.code:
            parts.append(f"(code {self.code})")
        return " ".join(parts)


class InvalidCredsError(ProviderError):
    """401: the credentials were refused."""


class ForbiddenError(ProviderError):
    """403: the credentials are valid but may not do this."""


class NotFoundError(ProviderError):
    """404: the resource does not exist (or is not visible to these credentials)."""


class ConflictError(ProviderError):
    """409: the request conflicts with the resource's current state."""


class RateLimitError(ProviderError):
    """429 (after retries were spent): ``retry_after`` says how long the provider asked to wait."""

    def __init__(self, message: str, status: int | None = 429, *, retry_after: float | None = None,
                 **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, status, **kwargs)


class ValidationError(ProviderError, ValueError):
    """400/422, or input refused client-side before any request was sent (``status`` None)."""


class RedirectError(ProviderError):
    """3xx: the API answered with a redirect, which cloudkit never follows (credentials are
    only sent to the configured host). Not a success: the request was sent and its outcome is
    the provider's to tell. ``location_host`` is the redirect target's host (and port), or
    None when the answer named none; its path and query are not kept."""

    location_host: str | None = None


class ServerError(ProviderError):
    """5xx: the provider failed."""


class MalformedResponseError(ProviderError):
    """The body does not parse, or lacks what the API promises (a proxy's HTML page,
    truncated JSON, an array where an object belongs, a missing required field)."""


class CreateNodeError(ProviderError):
    """``create_node`` failed part-way, after it had already made something billable (for
    example a HostVirtual package was ordered, then building a server on it failed).

    ``cause`` is the failing step's error; ``resource_id`` names what had been made;
    ``cleaned_up`` says whether cloudkit removed it again, and ``cleanup_error`` why not when
    removing it failed too (the resource may then still be billed). ``status`` and ``code``
    are the failing step's.
    """

    def __init__(self, message: str, status: int | None = None, *, resource_id: str,
                 cause: BaseException, cleaned_up: bool,
                 cleanup_error: BaseException | None = None, **kwargs: Any) -> None:
        self.resource_id = resource_id
        self.cause = cause
        self.cleaned_up = cleaned_up
        self.cleanup_error = cleanup_error
        super().__init__(message, status, **kwargs)


class NetworkError(CloudkitError):
    """No usable HTTP answer: connection refused or dropped, DNS failure, TLS failure."""

    def __init__(self, message: str, *, method: str | None = None, url: str | None = None,
                 sent: bool = False) -> None:
        self.method = method
        self.url = url
        #: True when the request may have reached the server before the failure.
        self.sent = sent
        super().__init__(message)


class RequestTimeoutError(NetworkError, TimeoutError):
    """The server did not answer within the connect or read timeout."""


class TLSError(NetworkError):
    """The server's certificate could not be verified. Never downgraded silently."""


class OutcomeUnknownError(NetworkError):
    """A non-idempotent request may have reached the server but no answer came back.

    It is never retried (a create must not make two servers). ``hint`` tells the caller
    what to look for, e.g. a node with the requested name.
    """

    def __init__(self, message: str, *, hint: str | None = None, **kwargs: Any) -> None:
        self.hint = hint
        super().__init__(message + (f"; {hint}" if hint else ""), **kwargs)


class WaitTimeoutError(CloudkitError, TimeoutError):
    """A wait ran out of time. ``nodes`` are the nodes concerned (as last seen),
    ``condition`` what was still unmet, ``last_states`` their last known states."""

    def __init__(self, message: str, *, nodes: Sequence[Node] = (), condition: str = "",
                 last_states: dict[str, str] | None = None, job: str | None = None) -> None:
        self.nodes = list(nodes)
        self.condition = condition
        self.last_states = dict(last_states or {})
        self.job = job
        super().__init__(message)

    @property
    def node(self) -> Node | None:
        """The first node concerned, or None."""
        return self.nodes[0] if self.nodes else None


class DeploymentError(CloudkitError):
    """``deploy_node`` failed after the node was created: ``node`` is that node so the
    caller can clean up (or see that it was destroyed: ``destroyed``; when destroying was
    tried and failed, ``destroy_error`` says why)."""

    def __init__(self, message: str, *, node: Node | None = None, step: Deployment | None = None,
                 phase: str | None = None,
                 exit_status: int | None = None, stderr: str | None = None,
                 destroyed: bool | None = None, cause: BaseException | None = None,
                 destroy_error: BaseException | None = None) -> None:
        self.node = node
        self.step = step
        self.phase = phase
        self.exit_status = exit_status
        self.stderr = stderr
        self.destroyed = destroyed
        self.cause = cause
        self.destroy_error = destroy_error
        super().__init__(message)


class SSHError(CloudkitError):
    """An SSH connection or command failed."""


class SSHConnectError(SSHError):
    """The host did not accept an SSH connection in time."""


class SSHAuthenticationError(SSHError):
    """The server refused the login, or the key cannot be used (malformed, wrong passphrase)."""


class SSHCommandTimeoutError(SSHError, TimeoutError):
    """A remote command ran past its timeout."""


class SSHHostKeyError(SSHError):
    """The server's host key is not trusted: unknown under the ``"strict"`` policy, or different
    from the one a known_hosts file records. Never retried."""


# -- pickling -----------------------------------------------------------------------------------

_SECRET_WORDS = ("pass", "secret", "token", "private_key", "api_key", "apikey", "credential")


def _rebuild_error(cls: type[CloudkitError], args: tuple[Any, ...], state: dict[str, Any]) -> CloudkitError:
    """Unpickle a cloudkit error without calling its ``__init__`` (whose signature varies)."""
    error = cls.__new__(cls, *args)
    error.args = args
    error.__dict__.update(state)
    return error


def _portable(value: Any, depth: int) -> Any:
    """``value`` as an error carries it across a process: no driver (its credentials), no
    secret-named ``extra`` fields, no exception that would not unpickle."""
    if depth > 8:
        return value
    if isinstance(value, dict):
        return {k: _portable(v, depth + 1) for k, v in value.items()
                if not (depth and isinstance(k, str) and any(w in k.lower() for w in _SECRET_WORDS))}
    if isinstance(value, list | tuple) and not hasattr(value, "_fields"):
        return type(value)(_portable(v, depth + 1) for v in value)
    if isinstance(value, CloudkitError):
        return value
    if isinstance(value, BaseException):
        return _portable_foreign(value)
    fields = getattr(value, "__dataclass_fields__", None)
    if fields is not None and "driver" in fields:  # a model (Node, NodeSize, ...)
        import dataclasses

        changes: dict[str, Any] = {"driver": None}
        for name in ("extra", "size", "image"):
            if name in fields:
                changes[name] = _portable(getattr(value, name), depth + 1)
        if "private_key" in fields:
            changes["private_key"] = None
        return dataclasses.replace(value, **changes)
    return value


def _portable_foreign(error: BaseException) -> BaseException:
    """A non-cloudkit exception if it survives pickling, else a plain stand-in naming it."""
    import pickle

    try:
        return pickle.loads(pickle.dumps(error))  # type: ignore[no-any-return]  # noqa: S301  (our own bytes)
    except Exception:
        return Exception(f"{type(error).__name__}: {excerpt(str(error))}")
