"""Creating a HostVirtual server: order a package, build it, wait for its server record."""

from __future__ import annotations

import logging
from typing import Any

from cloudkit.drivers.hostvirtual.connection import _describe
from cloudkit.drivers.hostvirtual.parsing import HostVirtualParsing
from cloudkit.drivers.hostvirtual.rules import _PLAN_NAME, _check_fqdn, _reply_ok, _seconds
from cloudkit.errors import (
    CloudkitError,
    CreateNodeError,
    MalformedResponseError,
    NotFoundError,
    OutcomeUnknownError,
    ProviderError,
    ValidationError,
    WaitTimeoutError,
)
from cloudkit.models import (
    Node,
    NodeAuthPassword,
    NodeAuthSSHKey,
    NodeImage,
    NodeLocation,
    NodeSize,
    NodeState,
)
from cloudkit.parsing import as_dict, opt_id, req_id
from cloudkit.redact import redact_exception
from cloudkit.secrets_gen import generate_password
from cloudkit.sshkeys import parse_public_key

log = logging.getLogger("cloudkit.drivers.hostvirtual")

class HostVirtualCreate(HostVirtualParsing):
    """``create_node`` and the steps it takes (order, build, cancel on failure, wait)."""

    def create_node(self, name: str, size: NodeSize | str, image: NodeImage | str,
                    location: NodeLocation | str | None = None,
    auth: NodeAuthSSHKey | NodeAuthPassword | None = None, *,
                    ex_ssh_key_id: str | None = None, ex_wait_timeout: float | None = None,
                    ex_poll_interval: float | None = None, **kwargs: Any) -> Node:
        """Order a package for ``size`` and build ``image`` on it in ``location``.

        ``auth``: ``NodeAuthSSHKey`` (its public key is installed), ``NodeAuthPassword``, or
        None (a strong root password is generated and returned once in
        ``node.extra["password"]``, unless ``ex_ssh_key_id`` names a stored key). The new
        server record is awaited up to ``ex_wait_timeout`` seconds; if it does not show up
        in time the node is returned as PENDING all the same (it exists).

        If the build fails after the order, the package is cancelled and ``CreateNodeError``
        tells both outcomes (``cleaned_up`` False, with the package id, if cancelling failed).
        If the build request gets no answer (the server may exist), nothing is cancelled:
        ``OutcomeUnknownError`` names the server and the package to look for.
        """
        if kwargs:
            raise ValidationError(f"unknown create_node arguments: {', '.join(sorted(kwargs))}")
        fqdn = _check_fqdn(name)
        image_id = self._id(image, "image")
        location_id = self._id(location, "location") if location is not None else self.DEFAULT_LOCATION_ID
        auth_fields, password = self._auth_fields(auth, ex_ssh_key_id, generate=True)
        timeout = _seconds(ex_wait_timeout, self.CREATE_WAIT_TIMEOUT, "ex_wait_timeout")
        interval = _seconds(ex_poll_interval, self.CREATE_POLL_INTERVAL, "ex_poll_interval")
        size_id, plan = self._resolve_plan(size)

        package_id = self._order(plan, fqdn)
        log.info("ordered package %s (plan %s) for %s", package_id, plan, fqdn)
        build = {"mbpkgid": package_id, "fqdn": fqdn, "image": image_id, "location": location_id,
                 **auth_fields}
        try:
            job_id = self._build(build, fqdn)
        except OutcomeUnknownError as exc:
            # The build may have happened: cancelling now could destroy a server the user has.
            # Keep the package and say exactly what to look for.
            redact_exception(exc, [password])
            raise OutcomeUnknownError(
                f"creating node {fqdn!r}: package {package_id} was ordered, then the build request got "
                "no answer, so the server may have been built",
                hint=(f"look for a server named {fqdn!r} on package {package_id}; if none appears, cancel "
                      f"the order with ex_cancel_package({package_id!r}) so it is not billed"),
                method=exc.method, url=exc.url, sent=True) from None
        except CloudkitError as exc:
            raise self._cancel_after_failed_build(package_id, fqdn, exc, password) from None
        log.info("build of %s on package %s accepted (job %s)", fqdn, package_id, job_id or "-")

        node = self._wait_for_server(package_id, timeout, interval)
        if node is None:
            node = Node(package_id, fqdn, NodeState.PENDING, [], [], self, extra={"fqdn": fqdn})
        for key, value in (("size", size_id), ("image", image_id), ("location", location_id),
                           ("package", plan)):
            if value is not None:
                node.extra.setdefault(key, value)
        if job_id is not None:
            node.extra["job_id"] = job_id
        if isinstance(size, NodeSize):
            node.size = size
        if isinstance(image, NodeImage):
            node.image = image
        if password and (auth is None or getattr(auth, "generated", False)):
            node.extra["password"] = password  # made by cloudkit: the only time it is shown
        return node

    def _auth_fields(self, auth: NodeAuthSSHKey | NodeAuthPassword | None, ssh_key_id: str | None, *,
                     generate: bool) -> tuple[dict[str, str], str | None]:
        """The build body's credential fields, and the password in use (if any)."""
        fields: dict[str, str] = {}
        if ssh_key_id is not None:
            fields["ssh_key_id"] = self._id(ssh_key_id, "SSH key")
        if isinstance(auth, NodeAuthSSHKey):
            parse_public_key(auth.pubkey)
            fields["ssh_key"] = auth.pubkey.strip()
            return fields, None
        if isinstance(auth, NodeAuthPassword):
            if not isinstance(auth.password, str) or not auth.password.strip():
                raise ValidationError("the root password must not be empty")
            fields["password"] = auth.password
            return fields, auth.password
        if auth is not None:
            raise ValidationError("auth must be a NodeAuthSSHKey or a NodeAuthPassword")
        if fields:
            return fields, None
        if not generate:
            raise ValidationError("building needs auth (NodeAuthSSHKey or NodeAuthPassword) "
                                  "or ex_ssh_key_id")
        password = generate_password(24)  # letters and digits
        fields["password"] = password
        return fields, password

    def _resolve_plan(self, size: NodeSize | str) -> tuple[str | None, str]:
        """(plan id if known, plan name): HostVirtual orders by plan *name*, e.g. "VR1G"."""
        if isinstance(size, NodeSize):
            if size.name and _PLAN_NAME.fullmatch(size.name):
                return size.id, size.name
            wanted = self._id(size.id, "size")
        else:
            wanted = self._id(size, "size")
            if not wanted.isdigit():  # a plan name already
                return None, wanted
        sizes = self.list_sizes()
        for candidate in sizes:
            if candidate.id == wanted:
                return candidate.id, candidate.name
        raise ValidationError(f"unknown size {wanted!r}; HostVirtual plans: "
                              f"{', '.join(f'{s.id} ({s.name})' for s in sizes) or 'none listed'}")

    def _order(self, plan: str, fqdn: str | None = None) -> str:
        hint = (f"a package of plan {plan!r} may have been ordered: look for it with "
                "ex_list_packages() and cancel it with ex_cancel_package() before trying again")
        if fqdn:
            hint = f"creating {fqdn!r}: {hint}"
        body = self.connection.request("/cloud/buy/", data={"plan": plan}, method="POST",
                                       outcome_hint=hint).object
        try:
            return req_id(as_dict(body, "order reply"), "id", "order reply")
        except MalformedResponseError as exc:
            raise MalformedResponseError(f"{exc.message}; {hint}", driver=self.name) from None

    def _build(self, fields: dict[str, str], fqdn: str) -> str | None:
        """POST the build; returns the job id when the reply carries one."""
        try:
            body = self.connection.request(
                "/cloud/server/build", data=fields, method="POST",
                outcome_hint=f"the build of {fqdn!r} on package {fields['mbpkgid']} may have started").object
        except MalformedResponseError as exc:
            if exc.status is not None and 200 <= exc.status < 300:
                return None  # accepted; the reply just is not JSON
            raise
        _reply_ok(body, "build", self.name)
        return opt_id(body.get("id")) if isinstance(body, dict) else None

    def _cancel_after_failed_build(self, package_id: str, fqdn: str, build_error: CloudkitError,
                                   password: str | None) -> CreateNodeError:
        redact_exception(build_error, [password])
        built = _describe(build_error)
        status = build_error.status if isinstance(build_error, ProviderError) else None
        code = build_error.code if isinstance(build_error, ProviderError) else None
        try:
            self._post("/cloud/cancel", package_id)
        except CloudkitError as cancel_error:
            log.error("building %s failed and cancelling package %s failed too: it may still be billed",
                      fqdn, package_id)
            return CreateNodeError(
                f"creating node {fqdn!r} failed: package {package_id} was ordered, then building it failed "
                f"({built}); cancelling the order ALSO failed ({_describe(cancel_error)}): package "
                f"{package_id} is still ordered and may be billed; cancel it with "
                f"ex_cancel_package({package_id!r}) or in the HostVirtual control panel",
                status, resource_id=package_id, cause=build_error, cleaned_up=False,
                cleanup_error=cancel_error, code=code, driver=self.name)
        log.warning("building %s failed; package %s was cancelled", fqdn, package_id)
        return CreateNodeError(
            f"creating node {fqdn!r} failed: package {package_id} was ordered, then building it failed "
            f"({built}); the order was cancelled, so package {package_id} is not billed",
            status, resource_id=package_id, cause=build_error, cleaned_up=True, code=code,
            driver=self.name)

    def _wait_for_server(self, package_id: str, timeout: float, interval: float) -> Node | None:
        """Poll get_node until the package has a server record; None when it does not in time."""

        def server_record() -> tuple[Node | None] | None:
            try:
                return (self.get_node(package_id),)
            except NotFoundError:
                return None  # no server record yet
            except CloudkitError as exc:
                log.warning("package %s was built but reading its server failed (%s); returning it as "
                            "pending", package_id, _describe(exc))
                return (None,)

        try:
            return self.poll_until(server_record, timeout=timeout, interval=max(interval, 0.01),
                                   what=f"a server record for package {package_id}", first_interval=1.0,
                                   factor=2.0)[0]
        except WaitTimeoutError:
            log.info("package %s has no server record after %.0fs; returning it as pending",
                     package_id, timeout)
            return None
