"""cloudkit benchmarks: cloudkit against raw ``requests`` and Apache libcloud, side by side.

``python -m bench`` runs every scenario of issue 9 for DigitalOcean and Linode against the
simulator (``python -m cloudkit.testing.simulator``) started in separate processes on
127.0.0.1, and prints one table of medians and ratios; every ratio compares numbers taken
in the same run. ``python -m bench --quick`` is a smoke mode (small accounts, few
repetitions) that CI runs to prove the benchmark still works; ``--only SCENARIO`` runs one.

Scenarios (see ``docs/performance.md`` for the results and how to read them):

``overhead``  list_nodes on a 50-server account, many times: cloudkit / raw requests, cloudkit / libcloud
``large``     10,000 servers with 30 ms added per request: cloudkit vs libcloud and vs the ideal
``startup``   a fresh process: import + build a driver (and the same plus one list_nodes)
``memory``    peak RSS of a process that lists 100,000 servers
``fanout``    list_nodes over 8 accounts at once (``cloudkit.parallel.map_drivers``) vs one
``deploy``    deploy_node with a real sshd: readiness-to-return latency; 20 concurrent deploys

The benchmark installs nothing. Apache libcloud (``pip install '.[bench]'``) is needed for the
libcloud comparisons; without it a full run stops with a message, ``--quick`` reports those
rows as skipped.
"""
