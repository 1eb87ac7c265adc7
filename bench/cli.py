"""The ``python -m bench`` command."""

from __future__ import annotations

import argparse
import shlex
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from types import ModuleType

from bench import _env, s1_overhead, s2_large, s3_startup, s4_memory, s5_fanout, s6_deploy
from bench._config import FULL, QUICK, Context, log
from bench._report import FAIL, MISS, Row, markdown_table, text_table

SCENARIOS: dict[str, ModuleType] = {
    "overhead": s1_overhead,
    "large": s2_large,
    "startup": s3_startup,
    "memory": s4_memory,
    "fanout": s5_fanout,
    "deploy": s6_deploy,
}
#: Scenarios with a libcloud baseline.
NEEDS_LIBCLOUD = frozenset({"overhead", "large", "startup", "memory"})
PROVIDERS = ("digitalocean", "linode")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="cloudkit against raw requests and Apache libcloud, on simulators on 127.0.0.1.")
    parser.add_argument("--quick", action="store_true",
                        help="smoke mode: small accounts, few repetitions (proves the benchmark works)")
    parser.add_argument("--only", action="append", choices=list(SCENARIOS), metavar="SCENARIO",
                        help=f"run only this scenario (repeatable): {', '.join(SCENARIOS)}")
    parser.add_argument("--provider", action="append", choices=PROVIDERS,
                        help="only this provider (repeatable; default: both)")
    parser.add_argument("--markdown", metavar="FILE", help="also write the results as Markdown to FILE")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = QUICK if args.quick else FULL
    names = args.only or list(SCENARIOS)
    names = [n for n in SCENARIOS if n in names]
    providers = args.provider or list(PROVIDERS)
    missing = _env.libcloud_missing()
    if missing is not None and not args.quick and NEEDS_LIBCLOUD & set(names):
        print(f"error: {missing}.\nThe full benchmark compares against libcloud and installs nothing itself; "
              "install it, run with --quick (libcloud rows are then skipped), or pick scenarios without it "
              "(--only fanout, --only deploy).", file=sys.stderr)
        return 2
    ctx = Context(config, missing)
    info = _env.machine()
    command = "python -m bench" + "".join(f" {shlex.quote(a)}" for a in (argv if argv is not None else sys.argv[1:]))
    log(f"{command}: {', '.join(names)} for {', '.join(providers)}"
        + (" (quick)" if config.quick else ""))
    started = time.monotonic()
    rows: list[Row] = []
    for name in names:
        for provider in providers:
            rows.extend(_run_one(SCENARIOS[name].run, name, provider, ctx))
    elapsed = time.monotonic() - started
    for row in rows:
        row.judge()
    header = [f"{key}: {value}" for key, value in info.items()]
    print("\n".join(header))
    print(f"command: {command}   ({elapsed:.0f} s)")
    print()
    print(text_table(rows))
    failed = [r for r in rows if r.verdict == FAIL]
    missed = [r for r in rows if r.verdict == MISS]
    print()
    print(f"{len(rows)} rows: {sum(r.verdict == 'PASS' for r in rows)} PASS, {len(missed)} MISS, "
          f"{sum(r.verdict == 'SKIP' for r in rows)} SKIP, {len(failed)} FAIL")
    if args.markdown:
        with open(args.markdown, "w") as fh:
            fh.write(f"Command: `{command}` ({elapsed:.0f} s)\n\n")
            fh.write("\n".join(f"- {line}" for line in header) + "\n\n")
            fh.write(markdown_table(rows) + "\n")
    return 1 if failed else 0


def _run_one(fn: Callable[[str, Context], list[Row]], name: str, provider: str, ctx: Context) -> list[Row]:
    try:
        return fn(provider, ctx)
    except Exception as exc:
        traceback.print_exc(file=sys.stderr)
        return [Row(name, provider, "(scenario failed)", None, "", verdict=FAIL,
                    note=f"{type(exc).__name__}: {exc}"[:300])]
