"""``cloudkit volumes``, ``cloudkit snapshots`` and ``cloudkit images create``: block storage,
volume snapshots and images made from nodes.

A volume is named by its id or its name, a node by its id or name. A provider without the
operation (``driver.supports``) is one line and exit status 2. Attach, detach and image
creation wait until the provider says they are done unless ``--no-wait``.
"""

from __future__ import annotations

import argparse
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cloudkit._cli import UsageError
from cloudkit._cli.output import Column, image_dict, key, print_json, print_rows, safe_extra, shown
from cloudkit.errors import NotFoundError
from cloudkit.models import StorageVolume, VolumeSnapshot

if TYPE_CHECKING:  # pragma: no cover
    from cloudkit._cli.context import Context

__all__ = ["add_storage_parsers", "snapshot_dict", "volume_dict"]

VOLUME_COLUMNS = (Column("ID", key("id")), Column("NAME", key("name")), Column("SIZE GB", key("size"), ">"),
                  Column("STATE", key("state")), Column("REGION", key("region")),
                  Column("ATTACHED TO", key("attached_to")))
SNAPSHOT_COLUMNS = (Column("ID", key("id")), Column("NAME", key("name")), Column("SIZE GB", key("size"), ">"),
                    Column("STATE", key("state")), Column("CREATED", key("created")))


def volume_dict(volume: StorageVolume) -> dict[str, Any]:
    """A volume as JSON-ready data (no secrets)."""
    extra = volume.extra
    attached = extra.get("droplet_ids") or ([extra["linode_id"]] if extra.get("linode_id") else [])
    region = extra.get("region") or extra.get("location")
    return {"id": volume.id, "name": volume.name, "size": volume.size, "state": volume.state.value,
            "region": region if isinstance(region, str) else None,
            "attached_to": [str(a) for a in attached] if isinstance(attached, list) else [],
            "provider": getattr(volume.driver, "type", None), "extra": safe_extra(extra)}


def snapshot_dict(snapshot: VolumeSnapshot) -> dict[str, Any]:
    """A volume snapshot as JSON-ready data."""
    return {"id": snapshot.id, "name": snapshot.name, "size": snapshot.size, "state": snapshot.state.value,
            "created": snapshot.created.isoformat() if snapshot.created is not None else None,
            "extra": safe_extra(snapshot.extra)}


# -- helpers ----------------------------------------------------------------------------------


def _require(ctx: Context, method: str) -> Any:
    """The driver, once it is known to implement ``method`` (else a UsageError naming why)."""
    driver = ctx.driver()
    answer = driver.supports(method)
    if not answer.supported:
        reason = f": {answer.reason}" if answer.reason else ""
        raise UsageError(f"the {driver.name} driver cannot {method.replace('_', ' ')}{reason}")
    return driver


def _wait_kwargs(ctx: Context, func: Callable[..., Any]) -> dict[str, Any]:
    """``ex_wait``/``timeout`` for ``func`` from ``--wait/--no-wait`` and ``--timeout``."""
    params = inspect.signature(func).parameters
    kwargs: dict[str, Any] = {}
    if "ex_wait" in params:
        kwargs["ex_wait"] = ctx.args.wait
    elif not ctx.args.wait:
        raise UsageError(f"the {ctx.driver().name} driver always waits here; drop --no-wait")
    if "timeout" in params:
        kwargs["timeout"] = ctx.args.timeout
    return kwargs


def _find_volume(ctx: Context, ref: str) -> StorageVolume:
    volumes = ctx.driver().list_volumes()
    matches = [v for v in volumes if v.id == ref] or [v for v in volumes if v.name == ref]
    if not matches:
        raise NotFoundError(f"no volume with id or name {ref!r}", 404, driver=ctx.driver().name)
    if len(matches) > 1:
        raise UsageError(f"several volumes are named {ref!r} (ids {', '.join(v.id for v in matches)}): give an id")
    return matches[0]


def _show_volume(ctx: Context, volume: StorageVolume, verb: str) -> int:
    data = volume_dict(volume)
    if ctx.json:
        print_json(data, ctx.out)
    else:
        ctx.out.write(f"{verb} volume {shown(volume.name)} ({volume.id})\n")
    return 0


def _confirm(ctx: Context, question: str, what: str) -> bool:
    if ctx.args.yes or ctx.confirm(question, what):
        return True
    ctx.err.write("cloudkit: not confirmed; nothing was destroyed\n")
    return False


# -- volumes ----------------------------------------------------------------------------------


def cmd_volumes_list(ctx: Context) -> int:
    """``volumes list``."""
    rows = [volume_dict(v) for v in _require(ctx, "list_volumes").list_volumes()]
    print_rows(rows, VOLUME_COLUMNS, as_json=ctx.json, empty="(no volumes)", stream=ctx.out)
    return 0


def cmd_volumes_create(ctx: Context) -> int:
    """``volumes create NAME --size GB [--location L] [--snapshot ID]``."""
    driver = _require(ctx, "create_volume")
    kwargs: dict[str, Any] = {}
    if ctx.args.snapshot:
        kwargs["snapshot"] = ctx.args.snapshot
    if not ctx.args.location and not ctx.args.snapshot:
        raise UsageError("volumes create needs --location (the region the volume lives in)")
    volume = driver.create_volume(ctx.args.size, ctx.args.name, location=ctx.args.location, **kwargs)
    return _show_volume(ctx, volume, "created")


def cmd_volumes_attach(ctx: Context) -> int:
    """``volumes attach VOLUME NODE [--no-wait]``."""
    driver = _require(ctx, "attach_volume")
    volume, node = _find_volume(ctx, ctx.args.volume), ctx.find_node(ctx.args.node)
    kwargs = _wait_kwargs(ctx, driver.attach_volume)
    with ctx.progress.waiting(f"attaching {shown(volume.name)} to {shown(node.name)}"):
        driver.attach_volume(node, volume, **kwargs)
    if ctx.json:
        print_json({**volume_dict(volume), "node": node.id, "waited": ctx.args.wait}, ctx.out)
    else:
        ctx.out.write(f"attached volume {shown(volume.name)} ({volume.id}) to {shown(node.name)} ({node.id})"
                      + ("" if ctx.args.wait else " (requested; not waited for)") + "\n")
    return 0


def cmd_volumes_detach(ctx: Context) -> int:
    """``volumes detach VOLUME [--no-wait]``."""
    driver = _require(ctx, "detach_volume")
    volume = _find_volume(ctx, ctx.args.volume)
    kwargs = _wait_kwargs(ctx, driver.detach_volume)
    with ctx.progress.waiting(f"detaching {shown(volume.name)}"):
        driver.detach_volume(volume, **kwargs)
    return _show_volume(ctx, volume, "detached")


def cmd_volumes_destroy(ctx: Context) -> int:
    """``volumes destroy VOLUME [--detach] [--yes]``."""
    driver = _require(ctx, "destroy_volume")
    volume = _find_volume(ctx, ctx.args.volume)
    if not _confirm(ctx, f"Destroy volume {shown(volume.name)} ({volume.id}) on {driver.name}? Its data is gone "
                         f"for good.", f"destroy volume {shown(volume.name)}"):
        return 1
    kwargs: dict[str, Any] = {}
    if ctx.args.detach:
        if "ex_detach" not in inspect.signature(driver.destroy_volume).parameters:
            raise UsageError(f"the {driver.name} driver cannot detach before destroying; detach first")
        kwargs["ex_detach"] = True
    driver.destroy_volume(volume, **kwargs)
    return _show_volume(ctx, volume, "destroyed")


# -- snapshots --------------------------------------------------------------------------------


def cmd_snapshots_list(ctx: Context) -> int:
    """``snapshots list VOLUME``."""
    driver = _require(ctx, "list_volume_snapshots")
    rows = [snapshot_dict(s) for s in driver.list_volume_snapshots(_find_volume(ctx, ctx.args.volume))]
    print_rows(rows, SNAPSHOT_COLUMNS, as_json=ctx.json, empty="(no snapshots)", stream=ctx.out)
    return 0


def cmd_snapshots_create(ctx: Context) -> int:
    """``snapshots create VOLUME [NAME]``."""
    driver = _require(ctx, "create_volume_snapshot")
    snapshot = driver.create_volume_snapshot(_find_volume(ctx, ctx.args.volume), ctx.args.name)
    if ctx.json:
        print_json(snapshot_dict(snapshot), ctx.out)
    else:
        ctx.out.write(f"created snapshot {shown(snapshot.name or '-')} ({snapshot.id})\n")
    return 0


def cmd_snapshots_destroy(ctx: Context) -> int:
    """``snapshots destroy SNAPSHOT_ID [--yes]``."""
    driver = _require(ctx, "destroy_volume_snapshot")
    ref = ctx.args.snapshot
    if not _confirm(ctx, f"Destroy snapshot {shown(ref)} on {driver.name}?", f"destroy snapshot {shown(ref)}"):
        return 1
    ok = bool(driver.destroy_volume_snapshot(ref))
    if ctx.json:
        print_json({"id": ref, "destroyed": ok}, ctx.out)
    else:
        ctx.out.write(f"destroyed snapshot {shown(ref)}\n")
    return 0 if ok else 1


# -- images -----------------------------------------------------------------------------------


def cmd_images_create(ctx: Context) -> int:
    """``images create NODE NAME [--no-wait]``."""
    driver = _require(ctx, "create_image")
    node = ctx.find_node(ctx.args.node)
    kwargs = _wait_kwargs(ctx, driver.create_image)
    with ctx.progress.waiting(f"making image {shown(ctx.args.name)} of {shown(node.name)}"):
        image = driver.create_image(node, ctx.args.name, **kwargs)
    if ctx.json:
        print_json(image_dict(image), ctx.out)
    else:
        ctx.out.write(f"created image {shown(image.name)} ({image.id or 'id not known yet'})"
                      + ("" if ctx.args.wait else " (requested; not waited for)") + "\n")
    return 0


# -- the parsers --------------------------------------------------------------------------------


def _wait_options(parser: argparse.ArgumentParser, seconds: float, seconds_type: Callable[[str], float]) -> None:
    parser.add_argument("--wait", action=argparse.BooleanOptionalAction, default=True,
                        help="wait until the provider reports it done (default), or return at once")
    parser.add_argument("--timeout", type=seconds_type, default=seconds,
                        help=f"seconds to wait at most ({seconds:g})")


def add_storage_parsers(sub: argparse._SubParsersAction[Any], images: argparse.ArgumentParser,
                        parent: argparse.ArgumentParser, parser_class: type[argparse.ArgumentParser],
                        seconds: Callable[[str], float]) -> None:
    """Add ``volumes``, ``snapshots`` and ``images create`` to the ``cloudkit`` parser."""

    def leaf(parent_sub: argparse._SubParsersAction[Any], name: str, func: Callable[[Context], int],
             text: str) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = parent_sub.add_parser(name, parents=[parent], help=text, description=text)
        p.set_defaults(func=func)
        return p

    def size(text: str) -> int:
        if not text.strip().isdigit() or int(text) < 1:
            raise argparse.ArgumentTypeError(f"{text!r}: give a whole number of GB")
        return int(text)

    volumes = sub.add_parser("volumes", help="block storage volumes: list, create, attach, detach, destroy")
    vsub = volumes.add_subparsers(dest="volumes_command", metavar="ACTION", parser_class=parser_class)
    vsub.required = True
    leaf(vsub, "list", cmd_volumes_list, "list the account's volumes")
    p = leaf(vsub, "create", cmd_volumes_create, "create a volume")
    p.add_argument("name", help="name of the new volume")
    p.add_argument("--size", type=size, required=True, help="size in GB")
    p.add_argument("--location", help="region of the volume (see 'cloudkit locations')")
    p.add_argument("--snapshot", metavar="ID", help="make it from this volume snapshot")
    p = leaf(vsub, "attach", cmd_volumes_attach, "attach a volume to a node in its region")
    p.add_argument("volume", help="volume id or name")
    p.add_argument("node", help="node id or name")
    _wait_options(p, 600.0, seconds)
    p = leaf(vsub, "detach", cmd_volumes_detach, "detach a volume from its node")
    p.add_argument("volume", help="volume id or name")
    _wait_options(p, 600.0, seconds)
    p = leaf(vsub, "destroy", cmd_volumes_destroy, "destroy a volume (asks first unless --yes)")
    p.add_argument("volume", help="volume id or name")
    p.add_argument("--detach", action="store_true", help="detach it first when it is attached")
    p.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")

    snapshots = sub.add_parser("snapshots", help="snapshots of a volume: list, create, destroy")
    ssub = snapshots.add_subparsers(dest="snapshots_command", metavar="ACTION", parser_class=parser_class)
    ssub.required = True
    p = leaf(ssub, "list", cmd_snapshots_list, "list a volume's snapshots")
    p.add_argument("volume", help="volume id or name")
    p = leaf(ssub, "create", cmd_snapshots_create, "snapshot a volume")
    p.add_argument("volume", help="volume id or name")
    p.add_argument("name", nargs="?", help="snapshot name (default: the volume's name and the time)")
    p = leaf(ssub, "destroy", cmd_snapshots_destroy, "destroy a snapshot (asks first unless --yes)")
    p.add_argument("snapshot", metavar="SNAPSHOT_ID", help="snapshot id")
    p.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")

    isub = images.add_subparsers(dest="images_command", metavar="ACTION", parser_class=parser_class)
    isub.required = False
    p = leaf(isub, "create", cmd_images_create, "make a private image of a node's disk")
    p.add_argument("node", help="node id or name")
    p.add_argument("name", help="name of the image")
    _wait_options(p, 3600.0, seconds)
