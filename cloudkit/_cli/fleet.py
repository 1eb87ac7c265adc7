"""``cloudkit nodes list --all-accounts``: every account of the config file at once.

The accounts are listed concurrently (``cloudkit.parallel.map_drivers``). Each node row
names its account (an ``account`` field in JSON, an ACCOUNT column in the table). An account
that fails (refused credentials, unreachable API, an unknown provider) costs one line on
stderr, naming it and the error, and exit status 1; the other accounts' nodes are still
printed.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from cloudkit._cli import UsageError
from cloudkit._cli.context import Context
from cloudkit._cli.output import NODE_COLUMNS, Column, key, node_dict, print_rows
from cloudkit.driver import NodeDriver
from cloudkit.errors import CloudkitError
from cloudkit.models import Node

__all__ = ["ACCOUNT_NODE_COLUMNS", "cmd_nodes_list_all_accounts"]

ACCOUNT_NODE_COLUMNS = (Column("ACCOUNT", key("account")), *NODE_COLUMNS)


def _list(tag: str | None, driver: NodeDriver) -> list[Node]:
    return driver.list_nodes(tag=tag) if tag else driver.list_nodes()


def cmd_nodes_list_all_accounts(ctx: Context) -> int:
    """``nodes list --all-accounts [--tag TAG]``."""
    from cloudkit._cli.config import choice_from, load_config
    from cloudkit.parallel import map_drivers

    if ctx.option("account"):
        raise UsageError("--all-accounts lists every account of the config file; drop --account")
    choice = choice_from(None, None, ctx.option("config"), None, ctx.env)
    config = load_config(choice.config_path, required=True)
    if not config.accounts:
        raise UsageError(f"no accounts in {config.path}")
    failures: dict[str, Exception] = {}
    names: list[str] = []
    drivers: list[NodeDriver] = []
    for name, account in sorted(config.accounts.items()):
        try:
            creds = account.credentials(config.path)
            ctx.secrets.extend(creds.secrets())
            drivers.append(ctx.driver_for(creds))
            names.append(name)
        except CloudkitError as exc:  # a broken entry fails its account only
            failures[name] = exc
    results = map_drivers(partial(_list, ctx.args.tag), drivers)
    rows: list[dict[str, Any]] = []
    for name, result in zip(names, results, strict=True):
        if isinstance(result, Exception):
            failures[name] = result
        else:
            rows.extend({"account": name, **node_dict(node)} for node in result)
    print_rows(rows, ACCOUNT_NODE_COLUMNS, as_json=ctx.json, empty="(no nodes)", stream=ctx.out)
    for name, failure in sorted(failures.items()):
        text = " ".join(str(failure).split()) or "(no message)"
        ctx.err.write(f"cloudkit: error: account {name}: {type(failure).__name__}: {text}\n")
    return 1 if failures else 0
