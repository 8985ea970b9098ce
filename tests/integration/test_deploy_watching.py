"""What operators deploy beside the code, checked by the tools that will read it: the alert rules
by promtool (`check rules` and their unit tests), the scrape configuration by `promtool check
config`, the dashboard's queries against the metric families the services really expose, and the
systemd units by `systemd-analyze verify` in a root laid out as on a VM."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from socialsvc_common.metrics import Metrics
from tests.harness import debian_tool

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy" / "prometheus"
SYSTEMD = ROOT / "deploy" / "systemd"
DASHBOARD = ROOT / "deploy" / "grafana" / "socialsvc-dashboard.json"
RUNBOOKS = ROOT / "docs" / "runbooks"
# Families set outside socialsvc_common.metrics: notifications' gateway gauges and eligibility's
# overdue appeals, each checked by a test of its own service.
SERVICE_FAMILIES = {
    "socialsvc_gateway_breaker_failing",
    "socialsvc_receipts_awaited",
    "socialsvc_receipt_oldest_wait_seconds",
    "socialsvc_appeals_overdue",
}


def promtool(*args: str | Path, cwd: Path = PROMETHEUS) -> subprocess.CompletedProcess[str]:
    command = [debian_tool("prometheus", "promtool"), *map(str, args)]
    return subprocess.run(
        command, capture_output=True, text=True, cwd=cwd, timeout=120, check=False
    )


def test_alert_rules_load_and_pass_their_unit_tests() -> None:
    checked = promtool("check", "rules", "alerts.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 6 rules found" in checked.stdout
    tested = promtool("test", "rules", "alerts.test.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_a_rule_test_that_expects_the_wrong_text_fails(tmp_path: Path) -> None:
    shutil.copy(PROMETHEUS / "alerts.yml", tmp_path)
    wrong = (PROMETHEUS / "alerts.test.yml").read_text().replace("(3000 records", "(3001 records")
    (tmp_path / "alerts.test.yml").write_text(wrong)
    tested = promtool("test", "rules", "alerts.test.yml", cwd=tmp_path)
    assert tested.returncode != 0
    assert "ConsumerLagGrowing" in tested.stdout + tested.stderr


def test_every_alert_has_a_runbook_and_the_scrape_configuration_is_valid(tmp_path: Path) -> None:
    rules = (PROMETHEUS / "alerts.yml").read_text()
    alerts = re.findall(r"^\s+- alert: (\w+)$", rules, re.MULTILINE)
    assert len(alerts) == 6
    for alert in alerts:
        assert f"runbook_url: docs/runbooks/{alert}.md" in rules
        page = (RUNBOOKS / f"{alert}.md").read_text()
        assert page.startswith(f"# {alert}\n")
        assert f"[{alert}]({alert}.md)" in (RUNBOOKS / "README.md").read_text()
    # The configuration as shipped, with the key file where `make run` issues it.
    keys = tmp_path / "var" / "keys"
    keys.mkdir(parents=True)
    (keys / "monitor.key").write_text("sk_placeholder\n")
    configured = tmp_path / "deploy" / "prometheus"
    configured.mkdir(parents=True)
    for name in ("prometheus.yml", "alerts.yml"):
        shutil.copy(PROMETHEUS / name, configured)
    checked = promtool("check", "config", "prometheus.yml", cwd=configured)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def exposed_families() -> set[str]:
    """The names a scrape shows for socialsvc_common's families (counters get `_total`,
    histograms `_bucket`, `_sum` and `_count`)."""
    names = set()
    for family in Metrics("any").registry.collect():
        suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count")}
        names |= {family.name + s for s in suffixes.get(family.type, ("",))}
    return names


def test_the_dashboard_and_the_rules_read_only_metrics_the_services_expose() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    expressions = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    assert len(expressions) == len(dashboard["panels"]) >= 12
    rules = (PROMETHEUS / "alerts.yml").read_text()
    known = exposed_families() | SERVICE_FAMILIES | {"up"}
    for text in [*expressions, rules]:
        used = set(re.findall(r"\b(socialsvc_[a-z_]+|up)\b(?=[{\[ )])", text))
        assert used, text
        assert used <= known, (used - known, text)
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))


def verify(root: Path, *units: str) -> subprocess.CompletedProcess[str]:
    command = [debian_tool("systemd", "systemd-analyze"), "verify", f"--root={root}", *units]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def vm_root(tmp_path: Path) -> Path:
    """A root laid out as on a VM: the system's own units, ours in /etc/systemd/system, and the
    release's executables in /opt/socialsvc."""
    root = tmp_path / "root"
    shutil.copytree("/usr/lib/systemd/system", root / "usr/lib/systemd/system", symlinks=True)
    units = root / "etc/systemd/system"
    units.mkdir(parents=True)
    for unit in SYSTEMD.glob("socialsvc*"):
        shutil.copy(unit, units)
    bin_dir = root / "opt/socialsvc/.venv/bin"
    bin_dir.mkdir(parents=True)
    for name in ("python", "socialsvc-db"):
        (bin_dir / name).write_text("#!/bin/sh\n")
        (bin_dir / name).chmod(0o755)
    return root


UNITS = (
    "/etc/systemd/system/socialsvc@intake.service",
    "/etc/systemd/system/socialsvc@notifications.service",
    "/etc/systemd/system/socialsvc-migrate.service",
    "/etc/systemd/system/socialsvc.target",
)


def test_the_systemd_units_verify_clean(tmp_path: Path) -> None:
    root = vm_root(tmp_path)
    verified = verify(root, *UNITS)
    ours = [line for line in verified.stderr.splitlines() if "socialsvc" in line]
    assert verified.returncode == 0, verified.stderr
    assert not ours, verified.stderr
    # The same check finds a mistake in one of them.
    unit = root / "etc/systemd/system/socialsvc@.service"
    unit.write_text(unit.read_text().replace("Restart=on-failure", "Restart=sometimes"))
    broken = verify(root, *UNITS)
    assert any("restart specifier" in line for line in broken.stderr.splitlines()), broken.stderr
