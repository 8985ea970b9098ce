"""kafkactl's guard rails, next to the running test broker: clear messages, never a hang."""

import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
KAFKACTL = Path(__file__).parents[2] / "deploy" / "kafka" / "kafkactl"


def kafkactl(var: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(KAFKACTL), *args],
        env={"PATH": "/usr/bin:/bin:/usr/local/bin", "SOCIALSVC_VAR": str(var)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_port_in_use_stops_the_start_with_the_port_named(bootstrap: str, tmp_path: Path) -> None:
    # The test broker holds 127.0.0.1:9192; a second one with its own data must not start.
    result = kafkactl(tmp_path, "start", "test")
    assert result.returncode == 1
    assert "port 127.0.0.1:9192 is in use" in result.stderr
    assert not (tmp_path / "kafka" / "test" / "node-1.pid").exists()


def test_a_stale_pid_file_is_removed_with_a_message(bootstrap: str, tmp_path: Path) -> None:
    pid_file = tmp_path / "kafka" / "test" / "node-1.pid"
    pid_file.parent.mkdir(parents=True)
    pid_file.write_text("999999\n")
    result = kafkactl(tmp_path, "start", "test")
    assert "removing stale pid file" in result.stdout
    assert not pid_file.exists()


def test_status_of_a_deployment_not_running_says_so_and_exits_3(tmp_path: Path) -> None:
    result = kafkactl(tmp_path, "status", "cluster")
    assert result.returncode == 3
    for node in (1, 2, 3):
        assert f"cluster node {node} stopped" in result.stdout


def test_an_unknown_deployment_is_refused(tmp_path: Path) -> None:
    result = kafkactl(tmp_path, "start", "triple")
    assert result.returncode == 1
    assert "unknown deployment 'triple'" in result.stderr
