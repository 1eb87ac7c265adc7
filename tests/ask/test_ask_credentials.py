"""Issue 11, "are these credentials good": ``verify_credentials()`` on the simulator of every
provider, and ``cloudkit accounts check`` on top of it.

True for good credentials after exactly one cheap authenticated call; InvalidCredsError for bad
ones; ForbiddenError for a 403; every other failure (5xx, 429, a dropped connection) as itself,
never disguised as a credentials problem.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from _ask_support import CHECK_CALL, PROVIDERS, SPECS, add_credentials, driver_for, simulator

from cloudkit.cli import main
from cloudkit.errors import (
    ForbiddenError,
    InvalidCredsError,
    NetworkError,
    RateLimitError,
    ServerError,
)
from cloudkit.testing.simulator import Simulator


@pytest.fixture(params=PROVIDERS)
def sim(request: pytest.FixtureRequest) -> Iterator[Simulator]:
    with simulator(request.param) as started:
        yield started


def _operation_security(spec: str, method: str, path: str) -> list[dict[str, list[str]]]:
    document = json.loads((SPECS / spec).read_text(encoding="utf-8"))
    security: list[dict[str, list[str]]] = document["paths"][path][method.lower()]["security"]
    return security


def test_good_credentials_are_true_after_one_cheap_call(sim: Simulator) -> None:
    sim.seed_nodes(1)  # an empty HostVirtual account answers its listing with 404 (see below)
    driver = sim.driver()
    sim.reset_requests()
    assert driver.verify_credentials() is True
    assert [(r.method, r.path, r.status) for r in sim.requests] == [(*CHECK_CALL[sim.provider], 200)]


def test_bad_credentials_raise_invalid_creds_without_retrying(sim: Simulator) -> None:
    bad_key = "wrong-credential-7f3a9c2b"
    driver = driver_for(sim, bad_key, "wrong-password-7f3a9c2b")
    with pytest.raises(InvalidCredsError) as err:
        driver.verify_credentials()
    assert err.value.status == 401
    assert [(r.method, r.path) for r in sim.requests] == [CHECK_CALL[sim.provider]]
    assert bad_key not in str(err.value) and "wrong-password-7f3a9c2b" not in str(err.value)


def test_a_403_is_a_forbidden_error(sim: Simulator) -> None:
    """A credential the provider knows but that may not make the call (simulator access "none").

    Only DigitalOcean has scopes that can fail the check call (``account:read``, asserted below).
    Linode's profile needs no scope at all (next test), HostVirtual has one API key per
    account and NephoScale a user name and password, none scoped. A 403 still must surface as
    ForbiddenError, never as success or as bad credentials, whatever the provider.
    """
    key, secret = add_credentials(sim, "none")
    driver = driver_for(sim, key, secret)
    with pytest.raises(ForbiddenError) as err:
        driver.verify_credentials()
    assert err.value.status == 403
    assert not isinstance(err.value, InvalidCredsError)
    assert [(r.method, r.path) for r in sim.requests] == [CHECK_CALL[sim.provider]]


def test_a_read_only_credential_is_good(sim: Simulator) -> None:
    key, secret = add_credentials(sim, "read")
    assert driver_for(sim, key, secret).verify_credentials() is True


def test_which_scopes_the_check_calls_need_per_the_official_descriptions() -> None:
    # DigitalOcean: GET /v2/account needs account:read, so a token scoped without it gets 403.
    assert _operation_security("digitalocean-compute.schema.json", "GET", "/v2/account") == [
        {"bearer_auth": ["account:read"]}]
    # Linode: GET /profile needs no OAuth scope: every valid token passes the check, whatever
    # its scopes (the check proves authentication; a missing scope shows on the call needing it).
    assert _operation_security("linode-compute.schema.json", "GET", "/{apiVersion}/profile") == [
        {"personalAccessToken": []}, {"oauth": []}]


def test_an_under_scoped_digitalocean_token_is_forbidden() -> None:
    with simulator("digitalocean") as sim:
        key, _ = add_credentials(sim, "none")
        with pytest.raises(ForbiddenError) as err:
            driver_for(sim, key).verify_credentials()
        assert "permission" in str(err.value)


@pytest.mark.parametrize(("fault", "error"), [("500", ServerError), ("503", ServerError),
                                              ("429", RateLimitError), ("drop", NetworkError)])
def test_other_failures_come_out_as_themselves(sim: Simulator, fault: str, error: type[Exception]) -> None:
    driver = sim.driver(max_retries=0)
    sim.faults.queue(fault)
    with pytest.raises(error) as err:
        driver.verify_credentials()
    assert not isinstance(err.value, (InvalidCredsError, ForbiddenError))
    if fault.isdigit():
        assert getattr(err.value, "status", None) == int(fault)
    assert len(sim.requests) == 1


def test_hostvirtual_empty_account_answered_404_still_counts_as_good() -> None:
    """HostVirtual answers an empty server list with 404 (fact sheet §2) once it accepted the
    key (a bad key is 401), so the check is True on an account without servers."""
    with simulator("hostvirtual", empty_list_404=True) as sim:
        assert sim.node_count() == 0
        assert sim.driver().verify_credentials() is True
        assert [r.status for r in sim.requests] == [404]


# ---------------------------------------------------------------------------------- the CLI

_ENV_KEYS = {"digitalocean": "CLOUDKIT_DIGITALOCEAN_TOKEN", "linode": "CLOUDKIT_LINODE_TOKEN",
             "hostvirtual": "CLOUDKIT_HOSTVIRTUAL_KEY", "nephoscale": "CLOUDKIT_NEPHOSCALE_USER"}


def _cloudkit(env: dict[str, str], *argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), env=env, stdout=out, stderr=err, stdin=io.StringIO(""))
    return code, out.getvalue(), err.getvalue()


def _env(home: Path, sim: Simulator, key: str, secret: str | None) -> dict[str, str]:
    env = {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"), "CLOUDKIT_BASE_URL": sim.base_url,
           "CLOUDKIT_PROVIDER": sim.provider, _ENV_KEYS[sim.provider]: key}
    if sim.provider == "nephoscale":
        env["CLOUDKIT_NEPHOSCALE_PASSWORD"] = secret or ""
    return env


def test_accounts_check_exit_codes_from_the_environment(sim: Simulator, tmp_path: Path) -> None:
    key, secret = sim.credentials
    code, out, _ = _cloudkit(_env(tmp_path, sim, key, secret), "accounts", "check", "-o", "json")
    assert code == 0
    [row] = json.loads(out)
    assert row["ok"] is True and row["provider"] == sim.provider and row["error"] is None

    code, out, err = _cloudkit(_env(tmp_path, sim, "wrong-credential-7f3a9c2b", "wrong-password-7f3a9c2b"),
                               "accounts", "check")
    assert code == 1
    assert "FAILED" in out and "InvalidCredsError" in out
    assert "wrong-credential-7f3a9c2b" not in out + err and "wrong-password-7f3a9c2b" not in out + err

    limited_key, limited_secret = add_credentials(sim, "none")
    code, out, _ = _cloudkit(_env(tmp_path, sim, limited_key, limited_secret), "accounts", "check", "-o", "json")
    assert code == 1
    assert json.loads(out)[0]["error"].startswith("ForbiddenError")
    assert limited_key not in out and (limited_secret is None or limited_secret not in out)


def test_accounts_check_with_named_accounts(tmp_path: Path) -> None:
    with simulator("linode") as linode, simulator("nephoscale") as nepho:
        user, password = nepho.credentials
        config = tmp_path / "config.toml"
        config.write_text(
            f'[accounts.lin]\nprovider = "linode"\ntoken = "{linode.token}"\nbase_url = "{linode.base_url}"\n\n'
            f'[accounts.neph]\nprovider = "nephoscale"\nuser = "{user}"\npassword = "{password}"\n'
            f'base_url = "{nepho.base_url}"\n\n'
            f'[accounts.stale]\nprovider = "linode"\ntoken = "revoked-token-0123456789"\n'
            f'base_url = "{linode.base_url}"\n', encoding="utf-8")
        os.chmod(config, 0o600)
        env = {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / ".config"), "CLOUDKIT_CONFIG": str(config)}

        for account in ("lin", "neph"):
            code, out, _ = _cloudkit(env, "accounts", "check", "--account", account, "-o", "json")
            assert code == 0, out
            [row] = json.loads(out)
            assert row["account"] == account and row["ok"] is True and row["error"] is None
            assert row["provider"] == {"lin": "linode", "neph": "nephoscale"}[account]
            assert account in row["source"]
        code, out, _ = _cloudkit(env, "accounts", "check", "--account", "stale")
        assert code == 1 and "stale: FAILED" in out and "InvalidCredsError" in out

        code, out, _ = _cloudkit(env, "accounts", "check", "--all", "-o", "json")
        assert code == 1
        assert {row["account"]: row["ok"] for row in json.loads(out)} == {"lin": True, "neph": True, "stale": False}
        assert password is not None and password not in out
        assert linode.token not in out and "revoked-token-0123456789" not in out
