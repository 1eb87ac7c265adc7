"""A runner for ``cloudkit`` in-process, and fake terminals for confirmation prompts."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

from cloudkit.cli import main


class Terminal(io.StringIO):
    """A stdin that says it is a terminal, holding the user's typed answers."""

    def isatty(self) -> bool:
        return True


@dataclass
class Result:
    """What one ``cloudkit`` run produced."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        """stdout parsed as JSON (fails the test when it is not)."""
        return json.loads(self.out)

    @property
    def err_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


class CliRunner:
    """Calls ``cloudkit.cli.main`` with a fixed environment; ``run(*argv)`` returns a Result."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = dict(env)

    def run(self, *argv: str, env: dict[str, str] | None = None, stdin: io.StringIO | None = None) -> Result:
        out, err = io.StringIO(), io.StringIO()
        code = main(list(argv), env={**self.env, **(env or {})}, stdout=out, stderr=err,
                    stdin=stdin if stdin is not None else io.StringIO(""))
        return Result(code, out.getvalue(), err.getvalue())

    def ok(self, *argv: str, **kwargs: Any) -> Result:
        """Run and insist on exit status 0."""
        result = self.run(*argv, **kwargs)
        assert result.code == 0, f"cloudkit {' '.join(argv)} -> {result.code}\n{result.out}\n{result.err}"
        return result
