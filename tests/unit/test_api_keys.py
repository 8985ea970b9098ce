"""The API key store: only hashes kept, keys recognised by their hash, bad stores refused."""

import json
import stat
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError

from socialsvc_common.apikeys import KeyStore, KeyStoreError, Role, digest, issue, revoke
from socialsvc_common.auth import ApiSettings, install_api_keys, require
from socialsvc_common.keys_cli import main
from socialsvc_common.logs import REDACTED, redact_personal_data, redact_text
from socialsvc_common.problems import install_problem_handlers
from socialsvc_common.settings import service_config
from tests.harness import key_per_role


class DemoSettings(ApiSettings):
    model_config = service_config("DEMO_")


def test_the_store_holds_the_hash_never_the_key(tmp_path: Path) -> None:
    store_file = tmp_path / "keys.jsonl"
    key = issue(store_file, "egov-gateway", Role.SUBMITTER)
    text = store_file.read_text()
    assert key not in text
    assert key.removeprefix("ssk_") not in text
    assert json.loads(text)["sha256"] == digest(key)
    assert stat.S_IMODE(store_file.stat().st_mode) == 0o600
    caller = KeyStore.load(store_file).identify(key)
    assert caller is not None
    assert (caller.name, caller.role) == ("egov-gateway", Role.SUBMITTER)


def test_unknown_and_malformed_keys_are_not_identified(tmp_path: Path) -> None:
    store_file = tmp_path / "keys.jsonl"
    key = issue(store_file, "worker-1", Role.SOCIAL_WORKER)
    store = KeyStore.load(store_file)
    other = issue(tmp_path / "other.jsonl", "worker-1", Role.SOCIAL_WORKER)
    for candidate in (other, key[:-1], key + "x", "", digest(key), key.upper()):
        assert store.identify(candidate) is None


def test_every_issued_key_is_different(tmp_path: Path) -> None:
    keys = {issue(tmp_path / "keys.jsonl", f"n{n}", Role.OPERATOR) for n in range(20)}
    assert len(keys) == 20
    assert len(KeyStore.load(tmp_path / "keys.jsonl")) == 20


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("not json", "Expecting value"),
        ('["a list"]', "JSON object"),
        ('{"name": "a", "role": "operator", "issued_at": "2026-01-01T00:00:00+00:00"}', "sha256"),
        (
            '{"name": "a", "role": "root", "sha256": "' + "0" * 64 + '", '
            '"issued_at": "2026-01-01T00:00:00+00:00"}',
            "unknown role",
        ),
        (
            '{"name": "a", "role": "operator", "sha256": "ssk_plain-key", '
            '"issued_at": "2026-01-01T00:00:00+00:00"}',
            "64 lower-case hex",
        ),
    ],
)
def test_a_bad_store_line_is_named(tmp_path: Path, line: str, reason: str) -> None:
    store_file = tmp_path / "keys.jsonl"
    issue(store_file, "good", Role.OPERATOR)
    with store_file.open("a") as out:
        out.write(line + "\n")
    with pytest.raises(KeyStoreError, match=rf"keys.jsonl:2: .*{reason}"):
        KeyStore.load(store_file)


def test_revoke_removes_only_that_name(tmp_path: Path) -> None:
    store_file = tmp_path / "keys.jsonl"
    gone = issue(store_file, "leaver", Role.OPERATOR)
    kept = issue(store_file, "stayer", Role.OPERATOR)
    assert revoke(store_file, "leaver") == 1
    store = KeyStore.load(store_file)
    assert store.identify(gone) is None
    assert store.identify(kept) is not None


def test_settings_validate_the_store_at_start_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store_file = tmp_path / "keys.jsonl"
    store_file.write_text('{"name": "x"}\n')
    monkeypatch.setenv("DEMO_API_KEYS_FILE", str(store_file))
    with pytest.raises(ValidationError, match=r"keys\.jsonl:1"):
        DemoSettings()
    monkeypatch.setenv("DEMO_API_KEYS_FILE", str(tmp_path / "missing.jsonl"))
    with pytest.raises(ValidationError, match="cannot read the API key store"):
        DemoSettings()


def test_production_refuses_to_start_without_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEMO_ENVIRONMENT", "production")
    monkeypatch.setenv("DEMO_DATABASE_URL", "postgresql+psycopg://svc:real-password@db/svc")
    with pytest.raises(ValidationError, match="production needs an API key store"):
        DemoSettings()
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    monkeypatch.setenv("DEMO_API_KEYS_FILE", str(empty))
    with pytest.raises(ValidationError, match="holds no keys"):
        DemoSettings()
    issue(empty, "admin", Role.ADMINISTRATOR)
    assert len(DemoSettings().key_store()) == 1


def test_the_console_script_prints_the_key_once_and_stores_its_hash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store_file = tmp_path / "keys.jsonl"
    assert main(["--file", str(store_file), "issue", "egov-gateway", "submitter"]) == 0
    key = capsys.readouterr().out.strip()
    assert KeyStore.load(store_file).identify(key) is not None
    assert main(["--file", str(store_file), "list"]) == 0
    listing = capsys.readouterr().out
    assert "egov-gateway\tsubmitter" in listing
    assert key not in listing
    assert main(["--file", str(store_file), "issue", "bad name!", "operator"]) == 2


@pytest.mark.parametrize(
    "template",
    [
        "Authorization: Bearer {key}",
        "authorization: bearer {key}",
        "request with key {key} refused",
        "X-API-Key={key}",
    ],
)
def test_keys_in_free_text_are_redacted(tmp_path: Path, template: str) -> None:
    key = issue(tmp_path / "keys.jsonl", "someone", Role.OPERATOR)
    redacted = redact_text(template.format(key=key))
    assert REDACTED in redacted
    assert key not in redacted
    assert key[4:20] not in redacted


def test_credential_fields_are_redacted_whatever_their_value() -> None:
    event = {
        "event": "request",
        "headers": {"Authorization": "Basic dXNlcjpwdw==", "X-API-Key": "plain-text-secret"},
        "token": "t0k3n",
    }
    rendered = json.dumps(redact_personal_data(None, "info", event))
    for secret in ("dXNlcjpwdw==", "plain-text-secret", "t0k3n"):
        assert secret not in rendered


def test_a_reviewer_key_is_admitted_where_reviewers_are_and_refused_elsewhere(
    tmp_path: Path,
) -> None:
    store_file = tmp_path / "keys.jsonl"
    keys = key_per_role(store_file, "k")
    assert KeyStore.load(store_file).identify(keys[Role.REVIEWER]).role is Role.REVIEWER  # type: ignore[union-attr]
    app = FastAPI()
    install_problem_handlers(app)
    install_api_keys(app, KeyStore.load(store_file))

    @app.post("/appeals/x/decision", dependencies=[require(Role.REVIEWER)])
    async def decide() -> dict[str, str]:
        return {}

    @app.post("/applications/x/appeals", dependencies=[require(Role.SOCIAL_WORKER)])
    async def lodge() -> dict[str, str]:
        return {}

    client = TestClient(app)

    def status(path: str, role: Role) -> int:
        return int(client.post(path, headers={"Authorization": f"Bearer {keys[role]}"}).status_code)

    admitted = {role for role in Role if status("/appeals/x/decision", role) == 200}
    assert admitted == {Role.REVIEWER, Role.ADMINISTRATOR}
    refused = client.post(
        "/appeals/x/decision", headers={"Authorization": f"Bearer {keys[Role.SOCIAL_WORKER]}"}
    )
    assert refused.status_code == 403
    assert "allowed: administrator, reviewer" in refused.json()["detail"]
    assert status("/applications/x/appeals", Role.REVIEWER) == 403


def test_a_portal_key_name_leaves_room_for_its_longer_role(tmp_path: Path) -> None:
    store_file = tmp_path / "keys.jsonl"
    issue(store_file, "egov-portal", Role.CITIZEN_PORTAL)
    issue(store_file, "w" * 64, Role.SOCIAL_WORKER)
    with pytest.raises(KeyStoreError, match="at most 63 characters"):
        issue(store_file, "p" * 64, Role.CITIZEN_PORTAL)
    assert {caller.role for caller in KeyStore.load(store_file)} == {
        Role.CITIZEN_PORTAL,
        Role.SOCIAL_WORKER,
    }


def test_a_social_workers_districts_are_stored_in_the_geographys_spelling(tmp_path: Path) -> None:
    store_file = tmp_path / "keys.jsonl"
    key = issue(store_file, "aysel", Role.SOCIAL_WORKER, districts=["Xətai", "Gəncə", "Xətai"])
    caller = KeyStore.load(store_file).identify(key)
    assert caller is not None
    assert caller.districts == frozenset({"Xətai", "Gəncə"})
    assert caller.serves("Xətai")
    assert not caller.serves("Nəsimi")
    unscoped = issue(store_file, "rauf", Role.SOCIAL_WORKER)
    anywhere = KeyStore.load(store_file).identify(unscoped)
    assert anywhere is not None
    assert anywhere.serves("Nəsimi")


def test_a_provider_key_names_its_provider(tmp_path: Path) -> None:
    store_file = tmp_path / "keys.jsonl"
    key = issue(store_file, "umid-staff", Role.PROVIDER, provider="ngo-umid")
    caller = KeyStore.load(store_file).identify(key)
    assert caller is not None
    assert (caller.role, caller.provider, caller.districts) == (
        Role.PROVIDER,
        "ngo-umid",
        frozenset(),
    )


@pytest.mark.parametrize(
    ("role", "districts", "provider", "reason"),
    [
        (Role.PROVIDER, [], None, "names its provider's registry id"),
        (Role.PROVIDER, [], "NGO Umid", "names its provider's registry id"),
        (Role.OPERATOR, [], "ngo-umid", "names no provider"),
        (Role.OPERATOR, ["Xətai"], None, "has no districts"),
        (Role.SOCIAL_WORKER, ["Atlantis"], None, "unknown district or city: 'Atlantis'"),
    ],
)
def test_a_scope_that_does_not_fit_the_role_is_refused(
    tmp_path: Path, role: Role, districts: list[str], provider: str | None, reason: str
) -> None:
    store_file = tmp_path / "keys.jsonl"
    with pytest.raises(KeyStoreError, match=reason):
        issue(store_file, "someone", role, districts=districts, provider=provider)
    assert not store_file.exists()
    line = {"name": "x", "role": role.value, "sha256": "0" * 64, "issued_at": "2026-12-01T00:00:00"}
    store_file.write_text(json.dumps({**line, "districts": districts, "provider": provider}) + "\n")
    with pytest.raises(KeyStoreError, match=f"keys.jsonl:1: .*{reason}"):
        KeyStore.load(store_file)


def test_the_console_script_issues_and_lists_scoped_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store_file = tmp_path / "keys.jsonl"
    assert (
        main(
            [
                "--file",
                str(store_file),
                "issue",
                "aysel",
                "social_worker",
                "--district",
                "Xətai",
                "--district",
                "Nəsimi",
            ]
        )
        == 0
    )
    assert (
        main(["--file", str(store_file), "issue", "umid", "provider", "--provider", "ngo-umid"])
        == 0
    )
    capsys.readouterr()
    assert main(["--file", str(store_file), "list"]) == 0
    listing = capsys.readouterr().out
    assert "aysel\tsocial_worker\tNəsimi,Xətai\t" in listing
    assert "umid\tprovider\tngo-umid\t" in listing
    assert main(["--file", str(store_file), "issue", "x", "provider"]) == 2
