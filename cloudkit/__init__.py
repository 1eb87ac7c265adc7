"""cloudkit: one compute API over many cloud providers.

>>> from cloudkit import get_driver, Provider
>>> driver = get_driver(Provider.DUMMY)("any-key")
>>> node = driver.create_node("web-1", driver.list_sizes()[0], driver.list_images()[0])

Importing cloudkit loads no provider driver, no HTTP stack and no SSH stack: each is
imported the first time it is used.
"""

from cloudkit._version import __version__
from cloudkit.errors import (
    ActionNotAllowedError,
    CloudkitError,
    ConfigurationError,
    ConflictError,
    CreateNodeError,
    DeploymentError,
    DriverNotFoundError,
    ForbiddenError,
    InvalidCredsError,
    MalformedResponseError,
    NetworkError,
    NotFoundError,
    NotSupportedError,
    OutcomeUnknownError,
    ProviderError,
    RateLimitError,
    RedirectError,
    RequestTimeoutError,
    ServerError,
    SSHAuthenticationError,
    SSHError,
    TLSError,
    ValidationError,
    WaitTimeoutError,
)
from cloudkit.models import (
    KeyPair,
    Node,
    NodeAuthPassword,
    NodeAuthSSHKey,
    NodeImage,
    NodeLocation,
    NodeSize,
    NodeState,
    StorageVolume,
    StorageVolumeState,
    VolumeSnapshot,
    VolumeSnapshotState,
)
from cloudkit.providers import Provider, get_driver, known_providers, register_driver, unregister_driver

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
    "KeyPair",
    "MalformedResponseError",
    "NetworkError",
    "Node",
    "NodeAuthPassword",
    "NodeAuthSSHKey",
    "NodeImage",
    "NodeLocation",
    "NodeSize",
    "NodeState",
    "NotFoundError",
    "NotSupportedError",
    "OutcomeUnknownError",
    "Provider",
    "ProviderError",
    "RateLimitError",
    "RedirectError",
    "RequestTimeoutError",
    "SSHAuthenticationError",
    "SSHError",
    "ServerError",
    "StorageVolume",
    "StorageVolumeState",
    "TLSError",
    "ValidationError",
    "VolumeSnapshot",
    "VolumeSnapshotState",
    "WaitTimeoutError",
    "__version__",
    "get_driver",
    "known_providers",
    "register_driver",
    "unregister_driver",
]
