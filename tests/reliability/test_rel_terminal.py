"""Provider-supplied text never drives the terminal (issue 16, item 5).

A node the provider names ``"\\x1b]2;pwn\\x07\\x1b[2J\\r\\n"`` (a title change, a screen clear,
a carriage return) is listed by ``cloudkit nodes list`` / ``nodes show`` / ``reboot`` with
every control character written as a visible escape (as JSON output does), on every
provider; one table row stays one line.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from _rel_support import PROVIDERS, running_sim

from cloudkit._cli.output import shown
from cloudkit.cli import main
from cloudkit.testing.simulator import Simulator

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

EVIL = "\x1b]2;pwn\x07\x1b[2J\r\n"
RAW_CONTROLS = ("\x1b", "\x07", "\r", "\x9b", "\u202e")


@pytest.fixture(params=PROVIDERS)
def sim(request: pytest.FixtureRequest) -> Iterator[Simulator]:
    yield from running_sim(request.param)


ENV_VARS = {
    "digitalocean": ("CLOUDKIT_DIGITALOCEAN_TOKEN", None),
    "linode": ("CLOUDKIT_LINODE_TOKEN", None),
    "hostvirtual": ("CLOUDKIT_HOSTVIRTUAL_KEY", None),
    "nephoscale": ("CLOUDKIT_NEPHOSCALE_USER", "CLOUDKIT_NEPHOSCALE_PASSWORD"),
}


def run(sim: Simulator, tmp_path: Any, *argv: str) -> tuple[int, str, str]:
    key_var, secret_var = ENV_VARS[sim.provider]
    key, secret = sim.credentials
    env = {"HOME": str(tmp_path), key_var: key}
    if secret_var and secret:
        env[secret_var] = secret
    out, err = io.StringIO(), io.StringIO()
    code = main(["--provider", sim.provider, "--base-url", sim.base_url, *argv], env=env, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_shown_escapes_controls() -> None:
    assert shown(EVIL) == "\\x1b]2;pwn\\x07\\x1b[2J\\r\\n"
    assert shown("a\u202eb\x9bc\u2028") == "a\\u202eb\\x9bc\\u2028"
    assert shown("plain ünïcode name") == "plain ünïcode name"


def test_table_output_escapes_provider_names(sim: Simulator, tmp_path: Any) -> None:
    node_id = sim.seed_nodes(1, name_prefix=EVIL + "\u202e\x9b")[0]
    code, out, err = run(sim, tmp_path, "nodes", "list")
    assert code == 0, err
    assert not [c for c in RAW_CONTROLS if c in out + err]
    row = [line for line in out.splitlines() if line.startswith(node_id)]
    assert len(row) == 1 and "\\x1b]2;pwn\\x07\\x1b[2J\\r\\n" in row[0]
    assert len(out.splitlines()) == 2  # header and one row

    code, out, err = run(sim, tmp_path, "nodes", "show", node_id)
    assert code == 0, err
    assert not [c for c in RAW_CONTROLS if c in out + err]
    assert "\\x1b]2;pwn" in out

    code, out, err = run(sim, tmp_path, "nodes", "reboot", node_id, "--force")
    assert not [c for c in RAW_CONTROLS if c in out + err]

    code, out, err = run(sim, tmp_path, "-o", "json", "nodes", "list")
    assert code == 0, err
    assert "\x1b" not in out
    assert json.loads(out)[0]["name"].startswith(EVIL)
