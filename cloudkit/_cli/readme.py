"""``python -m cloudkit.capabilities [--write README.md]``: the README's generated tables.

The capability matrix (:mod:`cloudkit.capabilities`) and the credentials table
(:func:`cloudkit._cli.config.credentials_table`) are both derived from the registry and the
drivers; the test suite fails when the README's copies are stale.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from cloudkit._cli.config import CREDENTIALS_END, CREDENTIALS_START, credentials_table
from cloudkit.capabilities import END_MARKER, START_MARKER, render_markdown_table, update_readme

__all__ = ["main", "update_readme_tables"]


def update_readme_tables(path: str | Path) -> bool:
    """Rewrite the capability and credentials tables of the README at ``path``; True when
    either changed (``ValueError`` when a pair of markers is missing)."""
    changed = update_readme(path, render_markdown_table(), start=START_MARKER, end=END_MARKER)
    return update_readme(path, credentials_table(), start=CREDENTIALS_START, end=CREDENTIALS_END) or changed


def main(argv: Sequence[str] | None = None) -> int:
    """Print the capability matrix as Markdown, or ``--write`` both tables into a README."""
    parser = argparse.ArgumentParser(prog="python -m cloudkit.capabilities",
                                     description="Print the driver capability matrix as Markdown.")
    parser.add_argument("--write", metavar="README",
                        help="rewrite the capability and credentials tables between their markers in README")
    args = parser.parse_args(argv)
    if args.write:
        changed = update_readme_tables(args.write)
        print(f"{args.write}: {'updated' if changed else 'already up to date'}")
    else:
        sys.stdout.write(render_markdown_table())
    return 0
