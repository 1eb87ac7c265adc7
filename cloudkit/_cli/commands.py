"""The ``cloudkit`` commands that talk to a provider's API (no SSH): providers, nodes,
sizes, images, locations, keys and accounts. Each returns the exit status."""

from __future__ import annotations

import inspect
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cloudkit._cli import UsageError, exit_status
from cloudkit._cli.context import Context
from cloudkit._cli.output import (
    IMAGE_COLUMNS,
    KEY_COLUMNS,
    LOCATION_COLUMNS,
    NODE_COLUMNS,
    SIZE_COLUMNS,
    Column,
    image_dict,
    key,
    key_dict,
    location_dict,
    node_dict,
    print_fields,
    print_json,
    print_rows,
    print_table,
    shown,
    size_dict,
)
from cloudkit.errors import CloudkitError
from cloudkit.models import Node, NodeAuthSSHKey

if TYPE_CHECKING:  # pragma: no cover
    from cloudkit._cli.config import Config

__all__ = [
    "cmd_accounts_check",
    "cmd_accounts_list",
    "cmd_images",
    "cmd_keys_add",
    "cmd_keys_delete",
    "cmd_keys_list",
    "cmd_locations",
    "cmd_node_action",
    "cmd_nodes_create",
    "cmd_nodes_destroy",
    "cmd_nodes_list",
    "cmd_nodes_show",
    "cmd_providers",
    "cmd_sizes",
    "read_public_key",
]


# ------------------------------------------------------------------------------ providers


def _provider_names(ctx: Context) -> list[str]:
    """The built-in drivers, then every plugin that loads (registered or from an entry point);
    a plugin that does not load is named on stderr and left out."""
    from cloudkit.capabilities import capability_matrix
    from cloudkit.providers import builtin_providers, known_providers

    builtin = builtin_providers()
    names = list(builtin)
    for name in known_providers():
        if name in builtin:
            continue
        try:
            capability_matrix([name])
        except Exception as exc:  # a third party's driver: whatever it raises, list the others
            ctx.err.write(f"cloudkit: warning: plugin driver {name!r} left out: "
                          f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}\n")
            continue
        names.append(name)
    return names


def cmd_providers(ctx: Context) -> int:
    """The capability matrix of every driver: built-in ones, then installed plugins."""
    from cloudkit.capabilities import capability_matrix, render_markdown_table
    from cloudkit.providers import check_provider

    only = ctx.option("provider")
    rows = capability_matrix([check_provider(only)] if only else _provider_names(ctx))
    if ctx.json:
        print_json([row.as_dict() for row in rows], ctx.out)
        return 0
    if ctx.args.markdown:
        ctx.out.write(render_markdown_table(rows))
        return 0
    table: list[dict[str, Any]] = [
        {"capability": "login at create", **{r.provider: ",".join(r.create_auth) or "none" for r in rows}}]
    for cap in rows[0].capabilities if rows else []:
        table.append({"capability": cap, **{
            r.provider: "yes" if r.capabilities[cap].supported else "no" for r in rows}})
    columns = [Column("CAPABILITY", key("capability"))] + [Column(r.name.upper(), key(r.provider)) for r in rows]
    print_table(table, columns, stream=ctx.out)
    return 0


# ---------------------------------------------------------------------------------- nodes


def _show_rows(ctx: Context, rows: list[dict[str, Any]], columns: Sequence[Column], empty: str) -> int:
    """Print ``rows`` as JSON (``-o json``) or as a table (``empty`` when there are none); exit 0."""
    print_rows(rows, columns, as_json=ctx.json, empty=empty, stream=ctx.out)
    return 0


def _show_nodes(ctx: Context, nodes: list[Node]) -> None:
    _show_rows(ctx, [node_dict(n) for n in nodes], NODE_COLUMNS, "(no nodes)")


def _show_node(ctx: Context, node: Node) -> None:
    data = node_dict(node)
    data["actions"] = sorted(ctx.driver().node_actions(node)) if node.driver is not None else []
    if ctx.json:
        print_json(data, ctx.out)
        return
    print_fields([
        ("id", data["id"]), ("name", data["name"]), ("state", data["state"]),
        ("public ips", data["public_ips"]), ("private ips", data["private_ips"]),
        ("size", data["size"]), ("image", data["image"]), ("location", data["location"]),
        ("created", data["created_at"]), ("tags", data["tags"]), ("provider", data["provider"]),
        ("allowed actions", data["actions"]),
    ], ctx.out)


def cmd_nodes_list(ctx: Context) -> int:
    """``nodes list [--tag TAG] [--all-accounts]``."""
    if getattr(ctx.args, "all_accounts", False):
        from cloudkit._cli.fleet import cmd_nodes_list_all_accounts

        return cmd_nodes_list_all_accounts(ctx)
    _show_nodes(ctx, ctx.driver().list_nodes(tag=ctx.args.tag) if ctx.args.tag else ctx.driver().list_nodes())
    return 0


def cmd_nodes_show(ctx: Context) -> int:
    """``nodes show NODE``."""
    _show_node(ctx, ctx.find_node(ctx.args.node))
    return 0


def read_public_key(path_text: str) -> str:
    """The public key line for ``--ssh-key PATH``: a ``.pub`` file, or the ``.pub`` next to a
    private key file."""
    from cloudkit.sshkeys import parse_public_key

    path = Path(os.path.expanduser(path_text))
    candidates = [path] if path.suffix == ".pub" else [path, path.with_name(path.name + ".pub")]
    for candidate in candidates:
        try:
            text = candidate.read_text(encoding="utf-8").strip()
        except OSError:
            continue
        if "PRIVATE KEY" in text:
            continue
        parse_public_key(text)
        return text
    raise UsageError(f"cannot read a public key from {path} (give the .pub file, or a private key with "
                     f"its .pub next to it)")


def _create_kwargs(ctx: Context) -> dict[str, Any]:
    """Extra create_node arguments from the options (tags), checked against the driver."""
    kwargs: dict[str, Any] = {}
    if getattr(ctx.args, "tag", None):
        params = inspect.signature(ctx.driver().create_node).parameters
        if "ex_tags" not in params:
            raise UsageError(f"the {ctx.driver().name} driver cannot tag a node at creation")
        kwargs["ex_tags"] = list(ctx.args.tag)
    return kwargs


def wait_running(ctx: Context, node: Node, timeout: float) -> Node:
    """Wait until ``node`` runs with an address, showing progress on stderr."""
    with ctx.progress.waiting(f"waiting for {shown(node.name)} ({node.id}) to be running"):
        [(node, _)] = ctx.driver().wait_until_running([node], timeout=timeout, wait_period=2.0)
    ctx.leftovers.seen(node)
    return node


def cmd_nodes_create(ctx: Context) -> int:
    """``nodes create NAME --size S --image I [--location L] [--ssh-key F] [--tag T] [--wait]``."""
    driver = ctx.driver()
    auth = NodeAuthSSHKey(read_public_key(ctx.args.ssh_key)) if ctx.args.ssh_key else None
    kwargs = _create_kwargs(ctx)
    ctx.progress.note(f"creating {ctx.args.name} on {driver.name} ...")
    ctx.leftovers.creating(ctx.args.name)
    node = driver.create_node(name=ctx.args.name, size=ctx.args.size, image=ctx.args.image,
                              location=ctx.args.location, auth=auth, **kwargs)
    ctx.leftovers.created(node)
    password = node.extra.get("password")
    if ctx.args.wait:
        node = wait_running(ctx, node, ctx.args.timeout)
    if isinstance(password, str) and password:
        if ctx.args.show_password:
            ctx.err.write(f"root password of {shown(node.name)} ({node.id}), shown once: {password}\n")
        else:
            ctx.progress.note(f"the provider generated a root password for {shown(node.name)}; it is not shown "
                              f"(--show-password prints it once)")
    _show_node(ctx, node)
    return 0


_ACTION_WORDS = {"reboot_node": "rebooted", "start_node": "started", "stop_node": "stopped",
                 "destroy_node": "destroyed"}


def _act(ctx: Context, action: str, nodes: list[Node]) -> int:
    driver = ctx.driver()
    results: list[dict[str, Any]] = []
    status = 0
    for node in nodes:
        row: dict[str, Any] = {"id": node.id, "name": node.name, "action": action.removesuffix("_node")}
        try:
            row["ok"] = bool(getattr(driver, action)(node, ex_force=ctx.args.force))
            row["error"] = None
        except CloudkitError as exc:
            if len(nodes) == 1:
                raise
            row["ok"], row["error"] = False, str(exc)
            status = max(status, exit_status(exc))
        status = max(status, 0 if row["ok"] else 1)
        results.append(row)
        if not ctx.json:
            if row["ok"]:
                ctx.out.write(f"{_ACTION_WORDS[action]} {shown(node.name)} ({node.id})\n")
            else:
                ctx.err.write(f"cloudkit: error: {shown(node.name)} ({node.id}): "
                              f"{shown(row['error'] or 'the provider did not confirm')}\n")
    if ctx.json:
        print_json(results, ctx.out)
    return status


def cmd_node_action(ctx: Context) -> int:
    """``nodes reboot|start|stop NODE... [--force]``."""
    return _act(ctx, f"{ctx.args.action}_node", ctx.find_nodes(ctx.args.nodes))


def cmd_nodes_destroy(ctx: Context) -> int:
    """``nodes destroy NODE... [--yes]``: asks first unless ``--yes``."""
    nodes = ctx.find_nodes(ctx.args.nodes)
    if not ctx.args.yes:
        names = ", ".join(f"{n.name} ({n.id})" for n in nodes)
        if not ctx.confirm(f"Destroy {len(nodes)} node(s) on {ctx.driver().name}: {names}? "
                           f"Their data is gone for good.", f"destroy {names}"):
            ctx.err.write("cloudkit: not confirmed; nothing was destroyed\n")
            return 1
    return _act(ctx, "destroy_node", nodes)


# ------------------------------------------------------------------------------ catalogue


def cmd_sizes(ctx: Context) -> int:
    """``sizes [--location L]``."""
    rows = [size_dict(s) for s in ctx.driver().list_sizes(location=ctx.args.location)]
    return _show_rows(ctx, rows, SIZE_COLUMNS, "(no sizes)")


def cmd_images(ctx: Context) -> int:
    """``images [--location L]``."""
    rows = [image_dict(i) for i in ctx.driver().list_images(location=ctx.args.location)]
    return _show_rows(ctx, rows, IMAGE_COLUMNS, "(no images)")


def cmd_locations(ctx: Context) -> int:
    """``locations``."""
    rows = [location_dict(loc) for loc in ctx.driver().list_locations()]
    return _show_rows(ctx, rows, LOCATION_COLUMNS, "(no locations)")


# ----------------------------------------------------------------------------------- keys


def cmd_keys_list(ctx: Context) -> int:
    """``keys list``."""
    return _show_rows(ctx, [key_dict(k) for k in ctx.driver().list_key_pairs()], KEY_COLUMNS, "(no keys)")


def cmd_keys_add(ctx: Context) -> int:
    """``keys add NAME PUBLIC_KEY_FILE``."""
    pair = ctx.driver().import_key_pair_from_string(ctx.args.name, read_public_key(ctx.args.public_key))
    if ctx.json:
        print_json(key_dict(pair), ctx.out)
    else:
        ctx.out.write(f"added key {shown(pair.name)} (id {pair.id or '-'}, fingerprint {pair.fingerprint or '-'})\n")
    return 0


def cmd_keys_delete(ctx: Context) -> int:
    """``keys delete NAME [--yes]``."""
    driver = ctx.driver()
    pair = driver.get_key_pair(ctx.args.name)
    if not ctx.args.yes and not ctx.confirm(f"Delete the key {shown(pair.name)} from {driver.name}?",
                                            f"delete the key {shown(pair.name)}"):
        ctx.err.write("cloudkit: not confirmed; nothing was deleted\n")
        return 1
    ok = bool(driver.delete_key_pair(pair))
    if ctx.json:
        print_json({"name": pair.name, "id": pair.id, "deleted": ok}, ctx.out)
    else:
        ctx.out.write(f"deleted key {shown(pair.name)}\n")
    return 0 if ok else 1


# ------------------------------------------------------------------------------- accounts


def _config(ctx: Context) -> Config:
    from cloudkit._cli.config import choice_from, load_config

    choice = choice_from(None, None, ctx.option("config"), None, ctx.env)
    return load_config(choice.config_path, required=choice.config_required)


def cmd_accounts_list(ctx: Context) -> int:
    """``accounts list``: the config file's accounts, without secrets."""
    config = _config(ctx)
    rows = [{**acc.public(), "default": name == config.default_account}
            for name, acc in sorted(config.accounts.items())]
    columns = [Column("NAME", key("name")), Column("PROVIDER", key("provider")), Column("DEFAULT", key("default")),
               Column("BASE URL", key("base_url")), Column("CREDENTIALS", key("credentials"))]
    return _show_rows(ctx, rows, columns, f"(no accounts in {config.path})")


def cmd_accounts_check(ctx: Context) -> int:
    """``accounts check [--account NAME] [--all]``: one cheap authenticated call each."""
    from cloudkit._cli.config import Credentials

    targets: list[Credentials]
    if ctx.args.all:
        config = _config(ctx)
        targets = [acc.credentials(config.path) for _, acc in sorted(config.accounts.items())]
        if not targets:
            raise UsageError(f"no accounts in {config.path}")
        for creds in targets:
            ctx.secrets.extend(creds.secrets())
    else:
        targets = [ctx.credentials()]
    rows = []
    status = 0
    for creds in targets:
        row: dict[str, Any] = {"account": creds.account, "provider": creds.provider, "source": creds.source}
        try:
            row["ok"] = bool(ctx.driver_for(creds).verify_credentials())
            row["error"] = None if row["ok"] else "the provider did not confirm the credentials"
        except CloudkitError as exc:
            row["ok"], row["error"] = False, f"{type(exc).__name__}: {exc}"
            status = max(status, exit_status(exc))
        status = max(status, 0 if row["ok"] else 1)
        rows.append(row)
    if ctx.json:
        print_json(rows, ctx.out)
    else:
        for row in rows:
            who = row["account"] or row["provider"]
            if row["ok"]:
                ctx.out.write(f"{who}: credentials OK ({row['provider']}, from {row['source']})\n")
            else:
                ctx.out.write(f"{who}: FAILED ({row['provider']}, from {row['source']}): {row['error']}\n")
    return status
