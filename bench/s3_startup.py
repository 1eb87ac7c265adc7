"""Scenario 3, start-up: whole fresh processes, timed from the parent (interpreter included).

``import cloudkit; get_driver(Provider.X)(token)`` against the libcloud equivalent
(``get_driver(Provider.X)(token)`` from ``libcloud.compute.providers``), then each plus one
``list_nodes()`` against a 50-server simulated account. Targets: <= 0.5 and <= 0.8 of
libcloud's whole-process time. A bare ``python -c pass`` is shown for scale.

Both start from compiled bytecode, as installed packages do (pip compiles them when it
installs): cloudkit's sources are compiled first (``compileall``), since a checkout run with
``PYTHONDONTWRITEBYTECODE`` set would otherwise compile every module from source in every
process while libcloud's bytecode came with its installation.
"""

from __future__ import annotations

import compileall

from bench import _clients, _env
from bench._config import Context, log
from bench._report import INFO, Row, median, skipped
from bench._sim import SimProcess
from bench._timing import interleave, per_call_ms, run_process

NAME = "startup"


def _program(lib: str, sim: SimProcess, list_nodes: bool) -> str:
    head = (f"TOKEN = {sim.token!r}\nBASE_URL = {sim.base_url!r}\nHOST = {sim.host!r}\nPORT = {sim.port}\n"
            f"COUNT = {sim.seed}\n")
    return head + _clients.startup_code(lib, sim.provider, list_nodes)


def run(provider: str, ctx: Context) -> list[Row]:
    cfg = ctx.config
    log(f"{NAME} {provider}: {cfg.startup_rounds} rounds of fresh processes")
    compileall.compile_dir(str(_env.ROOT / "cloudkit"), quiet=1)
    with SimProcess(provider, seed=cfg.startup_servers) as sim:
        programs = {"python": "pass",
                    "cloudkit": _program("cloudkit", sim, False),
                    "cloudkit+list": _program("cloudkit", sim, True)}
        if ctx.libcloud_missing is None:
            programs["libcloud"] = _program("libcloud", sim, False)
            programs["libcloud+list"] = _program("libcloud", sim, True)
        contenders = {name: (lambda code=code: run_process(code)) for name, code in programs.items()}
        samples = interleave(contenders, cfg.startup_rounds, warmup=1)
    ms = {name: median(per_call_ms(values)) for name, values in samples.items()}
    n = cfg.startup_rounds
    ctor = "fresh process: import + construct driver"
    listed = f"fresh process: import + construct + list_nodes ({cfg.startup_servers} servers)"
    rows = [Row(NAME, provider, ctor, ms["cloudkit"], "ms", "python -c pass", ms["python"], None,
                verdict=INFO, samples=n, note="interpreter start-up alone, for scale")]
    if "libcloud" in ms:
        rows.append(Row(NAME, provider, ctor, ms["cloudkit"], "ms", "libcloud", ms["libcloud"], 0.5, samples=n))
        rows.append(Row(NAME, provider, listed, ms["cloudkit+list"], "ms", "libcloud", ms["libcloud+list"], 0.8,
                        samples=n))
    else:
        rows.append(skipped(NAME, provider, ctor, str(ctx.libcloud_missing), base="libcloud"))
        rows.append(skipped(NAME, provider, listed, str(ctx.libcloud_missing), base="libcloud"))
    return rows
