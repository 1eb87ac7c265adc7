"""A driver made from the ``cloudkit new-driver`` template pickles (the base class does it)
and works in another process."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import cloudkit
from cloudkit.scaffold import new_driver

CLOUDKIT_ROOT = str(Path(cloudkit.__file__).resolve().parents[1])

CHILD = """
import pickle, sys
from cloudkit.testing.fixtures import mock_routes
from _acme_pickle_support import HOST, routes

driver = pickle.loads(sys.stdin.buffer.read())
assert driver.connection._session is None
with mock_routes(HOST, routes()):
    print(",".join(n.id for n in driver.list_nodes()))
"""


def test_a_generated_driver_pickles_and_works_in_another_process(tmp_path: Path) -> None:
    root = new_driver("acme-pickle", auth="basic", path=tmp_path)
    paths = [str(root), str(root / "tests"), CLOUDKIT_ROOT]
    sys.path[:0] = paths
    try:
        from _acme_pickle_support import make_driver  # type: ignore[import-not-found]  # written by the test into tmp_path

        driver = make_driver()
        driver.connection.session  # noqa: B018  (the session exists before pickling)
        data = pickle.dumps(driver)
    finally:
        del sys.path[:len(paths)]
        for name in [m for m in sys.modules if m.startswith(("cloudkit_acme_pickle", "_acme_pickle"))]:
            del sys.modules[name]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    done = subprocess.run([sys.executable, "-c", CHILD], input=data, capture_output=True, timeout=60,
                          env=env, check=False)
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.decode().split() == ["101,102,103"]
