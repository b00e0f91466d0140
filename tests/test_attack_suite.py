"""The attack suite, short version (issue #15): every attack at once against a real `kg serve`.

Waitress as in production, over an on-disk store with IDR's crates, `--query-timeout 2`: 30 slow clients
trickling headers, 6 runaway SPARQL queries, 3 parameter bombs (15,000 and 2,000 repeated
`organism=`), the SSRF
disguise corpus of tests/test_ssrf.py by GET against its canary server, and XSS payloads in page query
strings, while /health and /search are probed every 100 ms. The long version with production counts and
the printed latencies is `benchmarks/attack_suite.py`; no timing is asserted here, only outcomes.
"""

from __future__ import annotations

import pytest
from _attack import DISGUISES, PAYLOADS, attack, kg_serve, summary, xss_requests
from test_ssrf import Canary


@pytest.fixture(scope="module")
def report(idr_store_dir, tmp_path_factory):
    canary = Canary()
    try:
        with kg_serve(idr_store_dir, tmp_path_factory.mktemp("attack") / "serve.log") as base:
            result = attack(base, canary, slow=30, runaway=6, bombs=3, seconds=6, ssrf_methods=("GET",))
    finally:
        canary.server.shutdown()
    print("\n".join(summary(result)))
    return result


def test_the_server_holds_under_every_attack_at_once(report):
    assert report.failures() == []  # no 5xx but refusals, every request answered, no leak, no unsafe output


def test_every_attack_really_ran(report):
    """The counts say each attack was sent and refused the way it should be, so the zeros above mean something."""
    ssrf = report.statuses["SSRF corpus"]
    assert ssrf == {"403": len(DISGUISES)} and report.canary_hits == []
    assert sum(report.statuses["parameter bombs"].values()) == 6  # 3 bombs of 360 KB and 48 KB each
    assert set(report.statuses["parameter bombs"]) <= {"400", "414", "422", "431"}
    runaway = report.statuses["runaway queries"]
    assert set(runaway) <= {"503+Retry-After", "503 time limit"} and runaway["503 time limit"] >= 1
    assert sum(report.statuses["XSS payloads"].values()) == len(xss_requests()) and len(PAYLOADS) == 4
    assert report.reflected >= len(PAYLOADS)  # the payloads were echoed (escaped) at least once each
    assert report.slow_opened >= 30
    assert len(report.health) >= 10 and all(status == 200 for _, status in report.health)
