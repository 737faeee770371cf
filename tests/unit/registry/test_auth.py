from __future__ import annotations

import base64
import json
import os
import threading
from pathlib import Path

import pytest

from pinner.errors import AuthError
from pinner.registry.errors import CredentialUnavailableError
from pinner.registry.keychains import (
    BasicCredential,
    DockerConfigKeychain,
    GcloudKeychain,
    IdentityToken,
    MultiKeychain,
    RegistryToken,
    default_keychain,
    is_google_host,
    login_hint,
)
from tests.support.fake_programs import install_logged
from tests.support.paths import FAKES

pytestmark = pytest.mark.usefixtures("docker_config")

PASSWORD = "s3cr3t-pa55word"
TOKEN = "ya29.secret-gcloud-token"


def write_config(folder: Path, config: dict) -> None:
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# docker config.json: auths


def test_no_config_file_means_no_credentials() -> None:
    assert DockerConfigKeychain().resolve("ghcr.io") is None


def test_auth_field(docker_config: Path) -> None:
    write_config(docker_config, {"auths": {"ghcr.io": {"auth": b64(f"me:{PASSWORD}")}}})
    credential = DockerConfigKeychain().resolve("ghcr.io")
    assert credential == BasicCredential("me", PASSWORD, credential.source)
    assert str(docker_config) in credential.source


def test_auth_field_password_may_hold_colons_and_nuls(docker_config: Path) -> None:
    write_config(docker_config, {"auths": {"ghcr.io": {"auth": b64("me:a:b\x00")}}})
    credential = DockerConfigKeychain().resolve("ghcr.io")
    assert isinstance(credential, BasicCredential)
    assert (credential.username, credential.password) == ("me", "a:b")


def test_username_and_password_fields(docker_config: Path) -> None:
    write_config(docker_config, {"auths": {"quay.io": {"username": "u", "password": PASSWORD}}})
    credential = DockerConfigKeychain().resolve("quay.io")
    assert isinstance(credential, BasicCredential)
    assert (credential.username, credential.password) == ("u", PASSWORD)


def test_identitytoken(docker_config: Path) -> None:
    entry = {"auth": b64("00000000-0000-0000-0000-000000000000:"), "identitytoken": "refresh-1"}
    write_config(docker_config, {"auths": {"r.azurecr.io": entry}})
    credential = DockerConfigKeychain().resolve("r.azurecr.io")
    assert isinstance(credential, IdentityToken)
    assert credential.username == "00000000-0000-0000-0000-000000000000"
    assert credential.token == "refresh-1"


def test_registrytoken(docker_config: Path) -> None:
    write_config(docker_config, {"auths": {"r.example": {"registrytoken": "direct"}}})
    credential = DockerConfigKeychain().resolve("r.example")
    assert isinstance(credential, RegistryToken)
    assert credential.token == "direct"


def test_docker_hub_uses_the_index_key(docker_config: Path) -> None:
    write_config(docker_config, {"auths": {"https://index.docker.io/v1/": {"auth": b64("hub:pw")}}})
    credential = DockerConfigKeychain().resolve("docker.io")
    assert isinstance(credential, BasicCredential)
    assert credential.username == "hub"


def test_docker_hub_other_spellings(docker_config: Path) -> None:
    write_config(docker_config, {"auths": {"docker.io": {"auth": b64("hub:pw")}}})
    assert isinstance(DockerConfigKeychain().resolve("docker.io"), BasicCredential)


def test_url_keys_match_by_hostname(docker_config: Path) -> None:
    write_config(docker_config, {"auths": {"https://ghcr.io/v1/": {"auth": b64("old:pw")}}})
    credential = DockerConfigKeychain().resolve("ghcr.io")
    assert isinstance(credential, BasicCredential)
    assert credential.username == "old"
    assert DockerConfigKeychain().resolve("ghcr.io:5000") is None


def test_port_is_part_of_the_key(docker_config: Path) -> None:
    write_config(docker_config, {"auths": {"localhost:5000": {"auth": b64("local:pw")}}})
    assert DockerConfigKeychain().resolve("localhost:5000") is not None
    assert DockerConfigKeychain().resolve("localhost:5001") is None


def test_empty_entry_is_anonymous(docker_config: Path) -> None:
    write_config(docker_config, {"auths": {"ghcr.io": {}}})
    assert DockerConfigKeychain().resolve("ghcr.io") is None


def test_home_config_is_used_without_docker_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DOCKER_CONFIG")
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".docker").mkdir()
    write_config(tmp_path / ".docker", {"auths": {"ghcr.io": {"auth": b64("home:pw")}}})
    credential = DockerConfigKeychain().resolve("ghcr.io")
    assert isinstance(credential, BasicCredential)
    assert credential.username == "home"


@pytest.mark.parametrize("encoded", ["!!!not-base64", b64("no-colon"), b64(f":{PASSWORD}")])
def test_bad_auth_field_is_an_error_without_the_secret(docker_config: Path, encoded: str) -> None:
    write_config(docker_config, {"auths": {"ghcr.io": {"auth": encoded}}})
    with pytest.raises(AuthError) as caught:
        DockerConfigKeychain().resolve("ghcr.io")
    assert "docker login ghcr.io" in str(caught.value)
    assert encoded not in str(caught.value)
    assert PASSWORD not in str(caught.value)


def test_invalid_json_config(docker_config: Path) -> None:
    (docker_config / "config.json").write_text('{"auths": {"x": {"auth": "c2VjcmV0"', "utf-8")
    with pytest.raises(AuthError, match="cannot be read") as caught:
        DockerConfigKeychain().resolve("x")
    assert "c2VjcmV0" not in str(caught.value)


# credential helpers


@pytest.fixture
def helper_log(monkeypatch: pytest.MonkeyPatch, fake_bin: Path) -> Path:
    monkeypatch.setenv("FAKE_HELPER_USER", "helper-user")
    return install_logged(monkeypatch, fake_bin, "docker-credential-fake", PASSWORD)


def test_cred_helper_for_the_host(
    docker_config: Path, helper_log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_HELPER_SERVER", "ghcr.io")
    write_config(docker_config, {"credHelpers": {"ghcr.io": "fake"}})
    keychain = DockerConfigKeychain()
    credential = keychain.resolve("ghcr.io")
    assert isinstance(credential, BasicCredential)
    assert (credential.username, credential.password) == ("helper-user", PASSWORD)
    assert credential.source == "docker-credential-fake"
    keychain.resolve("ghcr.io")
    assert helper_log.read_text().splitlines() == ["get ghcr.io"]


def test_cred_helper_gets_the_hub_key(
    docker_config: Path, helper_log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_HELPER_SERVER", "https://index.docker.io/v1/")
    write_config(docker_config, {"credsStore": "fake"})
    assert isinstance(DockerConfigKeychain().resolve("docker.io"), BasicCredential)
    assert helper_log.read_text().splitlines() == ["get https://index.docker.io/v1/"]


def test_creds_store_not_found_falls_back_to_auths(
    docker_config: Path, helper_log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_HELPER_SERVER", "somewhere.else")
    write_config(
        docker_config,
        {"credsStore": "fake", "auths": {"quay.io": {"auth": b64("file:pw")}, "ghcr.io": {}}},
    )
    keychain = DockerConfigKeychain()
    assert keychain.resolve("ghcr.io") is None
    credential = keychain.resolve("quay.io")
    assert isinstance(credential, BasicCredential)
    assert credential.username == "file"


def test_cred_helpers_win_over_creds_store(
    docker_config: Path, helper_log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_HELPER_SERVER", "ghcr.io")
    write_config(docker_config, {"credsStore": "missing", "credHelpers": {"ghcr.io": "fake"}})
    assert isinstance(DockerConfigKeychain().resolve("ghcr.io"), BasicCredential)


def test_cred_helper_token_username_means_identity_token(
    docker_config: Path, helper_log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_HELPER_SERVER", "r.azurecr.io")
    monkeypatch.setenv("FAKE_HELPER_USER", "<token>")
    write_config(docker_config, {"credHelpers": {"r.azurecr.io": "fake"}})
    credential = DockerConfigKeychain().resolve("r.azurecr.io")
    assert isinstance(credential, IdentityToken)
    assert credential.token == PASSWORD


@pytest.mark.parametrize("name", ["../fake", "fake;rm -rf /", "/bin/fake", "-fake", "a b", ""])
def test_helper_names_are_validated(docker_config: Path, helper_log: Path, name: str) -> None:
    write_config(docker_config, {"credHelpers": {"ghcr.io": name or " "}})
    with pytest.raises(AuthError, match="not valid"):
        DockerConfigKeychain().resolve("ghcr.io")
    assert not helper_log.exists()


def test_missing_helper_is_unavailable(docker_config: Path, fake_bin: Path) -> None:
    write_config(docker_config, {"credsStore": "desktop"})
    with pytest.raises(CredentialUnavailableError) as caught:
        DockerConfigKeychain().resolve("ghcr.io")
    assert "docker-credential-desktop" in str(caught.value)
    assert "not found on PATH" in str(caught.value)


def test_failing_helper_output_is_not_repeated(
    docker_config: Path, helper_log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_HELPER_MODE", "broken")
    write_config(docker_config, {"credsStore": "fake"})
    keychain = DockerConfigKeychain()
    for _ in range(2):
        with pytest.raises(CredentialUnavailableError) as caught:
            keychain.resolve("ghcr.io")
        assert "exit status 3" in str(caught.value)
        assert PASSWORD not in str(caught.value)
    assert len(helper_log.read_text().splitlines()) == 1


# gcloud


@pytest.fixture
def gcloud_log(monkeypatch: pytest.MonkeyPatch, fake_bin: Path) -> Path:
    return install_logged(monkeypatch, fake_bin, "gcloud", TOKEN)


@pytest.mark.parametrize(
    ("host", "google"),
    [
        ("gcr.io", True),
        ("eu.gcr.io", True),
        ("us-docker.pkg.dev", True),
        ("europe-west1-docker.pkg.dev", True),
        ("docker.pkg.dev", False),
        ("evilgcr.io", False),
        ("gcr.io.evil.com", False),
        ("ghcr.io", False),
        ("my.mirror:5000", False),
    ],
)
def test_google_hosts(host: str, google: bool) -> None:
    assert is_google_host(host) is google
    assert is_google_host("my.mirror:5000", frozenset({"my.mirror:5000"}))


def test_gcloud_token_once_for_all_hosts_and_threads(gcloud_log: Path) -> None:
    keychain = GcloudKeychain()
    results: list[object] = []
    threads = [
        threading.Thread(target=lambda h=host: results.append(keychain.resolve(h)))
        for host in ["gcr.io", "eu.gcr.io", "us-docker.pkg.dev"] * 4
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [BasicCredential("oauth2accesstoken", TOKEN, "gcloud")] * 12
    assert gcloud_log.read_text().splitlines() == ["auth print-access-token --quiet"]


def test_gcloud_is_not_run_for_other_hosts(gcloud_log: Path) -> None:
    assert GcloudKeychain().resolve("ghcr.io") is None
    assert not gcloud_log.exists()


def test_gcloud_extra_hosts(gcloud_log: Path) -> None:
    keychain = GcloudKeychain(frozenset({"registry.corp.example"}))
    assert isinstance(keychain.resolve("registry.corp.example"), BasicCredential)


def test_gcloud_without_account(gcloud_log: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_GCLOUD_MODE", "noaccount")
    keychain = GcloudKeychain()
    for _ in range(3):
        with pytest.raises(CredentialUnavailableError) as caught:
            keychain.resolve("gcr.io")
        assert "no active account" in str(caught.value)
        assert "gcloud auth login" in caught.value.hint
    assert len(gcloud_log.read_text().splitlines()) == 1


def test_gcloud_missing(fake_bin: Path) -> None:
    with pytest.raises(CredentialUnavailableError) as caught:
        GcloudKeychain().resolve("us-docker.pkg.dev")
    assert "gcloud was not found on PATH" in str(caught.value)
    assert "gcloud auth login" in str(caught.value)


# chaining and messages


class Fixed:
    def __init__(self, value: object) -> None:
        self.value = value
        self.calls = 0

    def resolve(self, registry: str) -> object:
        self.calls += 1
        if isinstance(self.value, Exception):
            raise self.value
        return self.value


def test_multi_keychain_first_match_wins() -> None:
    first, second = Fixed(BasicCredential("a", "b")), Fixed(BasicCredential("c", "d"))
    assert MultiKeychain(Fixed(None), first, second).resolve("r") == BasicCredential("a", "b")
    assert second.calls == 0


def test_multi_keychain_skips_unavailable_sources() -> None:
    broken = Fixed(CredentialUnavailableError("helper broke", hint="Fix it."))
    good = Fixed(BasicCredential("a", "b"))
    assert MultiKeychain(broken, good).resolve("r") == BasicCredential("a", "b")
    with pytest.raises(CredentialUnavailableError, match="helper broke"):
        MultiKeychain(broken, Fixed(None)).resolve("r")
    assert MultiKeychain(Fixed(None)).resolve("r") is None


def test_default_keychain_order(docker_config: Path, gcloud_log: Path) -> None:
    write_config(docker_config, {"auths": {"gcr.io": {"auth": b64("json:key")}}})
    keychain = default_keychain()
    config_credential = keychain.resolve("gcr.io")
    assert isinstance(config_credential, BasicCredential)
    assert config_credential.username == "json"
    assert keychain.resolve("eu.gcr.io") == BasicCredential("oauth2accesstoken", TOKEN, "gcloud")
    assert keychain.resolve("ghcr.io") is None


def test_reprs_redact_secrets() -> None:
    credentials = [
        BasicCredential("me", PASSWORD, "x"),
        IdentityToken("<token>", PASSWORD),
        RegistryToken(PASSWORD),
    ]
    for credential in credentials:
        assert PASSWORD not in repr(credential)
        assert PASSWORD not in str(credential)
        assert "redacted" in repr(credential)


def test_login_hints() -> None:
    assert "`docker login`" in login_hint("docker.io")
    assert "`docker login ghcr.io`" in login_hint("ghcr.io")
    assert "`gcloud auth login`" in login_hint("gcr.io")
    assert "`gcloud auth login`" in login_hint("registry.example", frozenset({"registry.example"}))
    assert "`aws configure`" in login_hint("123456789012.dkr.ecr.eu-west-1.amazonaws.com")
    assert "`az login`" in login_hint("myregistry.azurecr.io")


def test_fakes_are_executable() -> None:
    for fake in FAKES.iterdir():
        assert os.access(fake, os.X_OK), fake


def test_keychain_modules_do_not_import_http() -> None:
    import ast

    import pinner

    package = Path(pinner.__file__).parent / "registry"
    for module in ("keychains.py", "credentials.py", "challenge.py", "platforms.py"):
        tree = ast.parse((package / module).read_text(encoding="utf-8"))
        imported = {
            alias.name.split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        } | {
            (node.module or "").split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom)
        }
        assert "httpx" not in imported, module
        higher = {
            "pinner.registry.client",
            "pinner.registry.session",
            "pinner.registry.transport",
            "pinner.registry.resolver",
        }
        modules = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert not modules & higher, module
