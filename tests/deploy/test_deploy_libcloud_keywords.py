"""deploy_node with libcloud's keywords, against a real sshd on loopback."""

from __future__ import annotations

import atexit
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.sshd import SshdDummyDriver, SSHServer

from cloudkit.deployment import Deployment, ScriptDeployment
from cloudkit.errors import ConfigurationError, DeploymentError, SSHError
from cloudkit.models import Node

pytestmark = [pytest.mark.sshd, pytest.mark.integration]

Provider = Callable[..., SshdDummyDriver]


class Flaky(Deployment):
    """Raises on its first ``failures`` runs, then succeeds."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.runs = 0

    def run(self, node: Node, client: Any) -> Node:
        self.runs += 1
        if self.runs <= self.failures:
            raise SSHError("transient failure")
        return node


@pytest.mark.timeout(60)
def test_libcloud_keyword_form_with_alternate_usernames_and_max_tries(
        sshd: SSHServer, provider: Provider, login_key: Path) -> None:
    driver = provider(ex_boot_seconds=0.1)
    calls: list[dict[str, Any]] = []

    def at_exit(**kwargs: Any) -> None:
        calls.append(kwargs)

    step = Flaky(failures=2)
    node = driver.deploy_node(deploy=step, name="web", size="small", image="debian-12", location="lon1",
                              ssh_username="nobody-here", ssh_alternate_usernames=[sshd.user],
                              ssh_port=sshd.port, ssh_timeout=5, ssh_key=[str(login_key)],
                              timeout=30, max_tries=3, ssh_interface="public_ips",
                              at_exit_func=at_exit, wait_period=0.2)
    assert step.runs == 3
    assert node.id == driver.created[0].id
    assert atexit.unregister(at_exit) is None and calls == []  # unregistered: never called


@pytest.mark.timeout(60)
def test_max_tries_gives_up_and_a_non_zero_script_is_not_retried(
        sshd: SSHServer, provider: Provider, login_key: Path) -> None:
    driver = provider(ex_boot_seconds=0.1)
    step = Flaky(failures=5)
    with pytest.raises(DeploymentError, match="after 2 tries"):
        driver.deploy_node(deploy=step, name="web", size="small", image="debian-12", location="lon1",
                           ssh_username=sshd.user, ssh_port=sshd.port, ssh_key=str(login_key), timeout=30,
                           max_tries=2, wait_period=0.2)
    assert step.runs == 2
    script = ScriptDeployment("#!/bin/sh\nexit 3\n")
    with pytest.raises(DeploymentError) as info:
        driver.deploy_node(deploy=script, name="web2", size="small", image="debian-12", location="lon1",
                           ssh_username=sshd.user, ssh_port=sshd.port, ssh_key=str(login_key), timeout=30,
                           max_tries=3, wait_period=0.2)
    assert info.value.exit_status == 3


def test_bad_libcloud_keywords_refused_before_create(provider: Provider) -> None:
    driver = provider()
    with pytest.raises(ConfigurationError, match="max_tries"):
        driver.deploy_node(deploy=ScriptDeployment("true"), name="w", size="small", image="debian-12",
                           max_tries=0)
    with pytest.raises(ConfigurationError, match="deploy="):
        driver.deploy_node(name="w", size="small", image="debian-12")
    assert driver.created == []
