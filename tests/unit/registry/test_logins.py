"""Logins users already have: podman/skopeo auth files, the AWS and Azure CLIs, GITHUB_TOKEN.

The programs are the fakes in tests/support/fakes on a PATH holding only them; the files are
written where podman writes them. Protocol-level tests against the real registry are in
tests/e2e/test_cloud_logins.py.
"""

from __future__ import annotations

import base64
import json
import os
import threading
from pathlib import Path

import pytest

from pinner.registry.cloudlogins import (
    ACR_USERNAME,
    AcrKeychain,
    EcrKeychain,
    GithubActionsKeychain,
)
from pinner.registry.errors import CredentialUnavailableError
from pinner.registry.keychains import (
    BasicCredential,
    DockerConfigKeychain,
    IdentityToken,
    containers_auth_files,
    default_keychain,
)
from tests.support.fake_programs import install, install_logged

ECR = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
ACR = "myregistry.azurecr.io"


@pytest.fixture(autouse=True)
def homes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Empty docker and containers locations; GitHub Actions' variables unset."""
    for folder in ("docker", "run", "config"):
        (tmp_path / folder).mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("REGISTRY_AUTH_FILE", raising=False)
    for name in ("GITHUB_ACTIONS", "GITHUB_TOKEN", "GITHUB_ACTOR"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def auth(user: str, password: str) -> dict[str, str]:
    return {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}


def write_json(path: Path, data: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


# --- where podman and skopeo keep logins ------------------------------------------------------


def test_containers_auth_files_in_containers_image_order(homes: Path) -> None:
    assert containers_auth_files() == [
        homes / "run" / "containers" / "auth.json",
        homes / "config" / "containers" / "auth.json",
    ]


def test_registry_auth_file_replaces_the_default_files(
    homes: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(homes / "ci-auth.json"))
    assert containers_auth_files() == [homes / "ci-auth.json"]


def test_without_xdg_variables_the_per_user_run_folder_and_home_config(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    monkeypatch.delenv("XDG_CONFIG_HOME")
    assert containers_auth_files() == [
        Path(f"/run/containers/{os.getuid()}/auth.json"),
        Path.home() / ".config" / "containers" / "auth.json",
    ]


def test_podman_login_is_used_when_the_docker_config_has_nothing(homes: Path) -> None:
    path = write_json(
        homes / "run" / "containers" / "auth.json",
        {"auths": {"quay.io": auth("podman-user", "pw")}},
    )
    credential = default_keychain().resolve("quay.io")
    assert credential == BasicCredential("podman-user", "pw", f"the containers auth file {path}")
    assert credential is not None and credential.hint == (
        "Run `podman login quay.io` again with an account that can read the repository."
    )


def test_the_docker_config_comes_first_then_the_runtime_file_then_the_config_file(
    homes: Path,
) -> None:
    write_json(homes / "docker" / "config.json", {"auths": {"a.example": auth("docker", "1")}})
    write_json(
        homes / "run" / "containers" / "auth.json",
        {"auths": {"a.example": auth("run", "2"), "b.example": auth("run", "2")}},
    )
    write_json(
        homes / "config" / "containers" / "auth.json",
        {"auths": {name: auth("config", "3") for name in ("a.example", "b.example", "c.example")}},
    )
    keychain = default_keychain()
    found = {
        name: getattr(keychain.resolve(f"{name}.example"), "username", None)
        for name in ("a", "b", "c", "d")
    }
    assert found == {"a": "docker", "b": "run", "c": "config", "d": None}


def test_registry_auth_file_is_read_instead_of_the_defaults(
    homes: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_json(homes / "run" / "containers" / "auth.json", {"auths": {"a.example": auth("x", "")}})
    explicit = write_json(homes / "ci.json", {"auths": {"b.example": auth("ci", "pw")}})
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(explicit))
    keychain = default_keychain()
    assert keychain.resolve("a.example") is None
    assert keychain.resolve("b.example") == BasicCredential(
        "ci", "pw", f"the containers auth file {explicit}"
    )


def test_docker_hub_is_docker_io_in_podman_files(homes: Path) -> None:
    write_json(
        homes / "run" / "containers" / "auth.json",
        {"auths": {"docker.io": auth("hubuser", "pw")}},
    )
    credential = default_keychain().resolve("docker.io")
    assert getattr(credential, "username", None) == "hubuser"
    assert credential is not None and "Run `podman login` again" in credential.hint


def test_identity_tokens_and_cred_helpers_in_podman_files(
    homes: Path, fake_bin: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install(fake_bin, "docker-credential-fake")
    monkeypatch.setenv("FAKE_HELPER_SERVER", "helped.example")
    monkeypatch.setenv("FAKE_HELPER_USER", "helper-user")
    monkeypatch.setenv("FAKE_HELPER_SECRET", "helper-secret")
    path = write_json(
        homes / "config" / "containers" / "auth.json",
        {
            "auths": {"token.example": {"auth": "", "identitytoken": "refresh"}},
            "credHelpers": {"helped.example": "fake"},
            "credsStore": "fake",  # not part of auth.json: never used for other hosts
        },
    )
    keychain = DockerConfigKeychain(path, containers=True)
    assert keychain.resolve("token.example") == IdentityToken(
        "<token>", "refresh", f"the containers auth file {path}"
    )
    assert keychain.resolve("helped.example") == BasicCredential(
        "helper-user", "helper-secret", "docker-credential-fake"
    )
    assert keychain.resolve("other.example") is None


def test_a_broken_podman_file_is_skipped_and_said(homes: Path) -> None:
    path = homes / "run" / "containers" / "auth.json"
    path.parent.mkdir(parents=True)
    path.write_text("{not json", encoding="utf-8")
    write_json(
        homes / "config" / "containers" / "auth.json", {"auths": {"b.example": auth("u", "p")}}
    )
    keychain = default_keychain()
    assert getattr(keychain.resolve("b.example"), "username", None) == "u"
    with pytest.raises(CredentialUnavailableError) as caught:
        keychain.resolve("a.example")
    assert caught.value.cause == f"the containers auth file {path} cannot be read: JSONDecodeError"
    assert caught.value.hint == "Fix or remove the containers auth file."


# --- Amazon ECR -------------------------------------------------------------------------------


@pytest.fixture
def aws_log(fake_bin: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return install_logged(monkeypatch, fake_bin, "aws", "ecr-secret")


@pytest.mark.parametrize(
    ("host", "region"),
    [
        (ECR, "eu-west-1"),
        ("123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com", "us-gov-west-1"),
        ("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", "cn-north-1"),
        ("123456789012.dkr.ecr.eu-west-1.amazonaws.com:443", "eu-west-1"),
    ],
)
def test_ecr_password_from_the_aws_cli(aws_log: Path, host: str, region: str) -> None:
    credential = EcrKeychain().resolve(host)
    assert credential == BasicCredential("AWS", "ecr-secret", "the AWS CLI")
    assert aws_log.read_text().splitlines() == [f"ecr get-login-password --region {region}"]


@pytest.mark.parametrize(
    "host",
    [
        "ecr.example.com",
        "12345.dkr.ecr.eu-west-1.amazonaws.com",  # an account id has 12 digits
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com.evil.example",
        "public.ecr.aws",
        "ghcr.io",
    ],
)
def test_ecr_is_asked_only_for_ecr_hosts(aws_log: Path, host: str) -> None:
    assert EcrKeychain().resolve(host) is None
    assert not aws_log.exists()


def test_ecr_asks_once_per_region_for_all_accounts_and_threads(aws_log: Path) -> None:
    keychain = EcrKeychain()
    hosts = [ECR, "210987654321.dkr.ecr.eu-west-1.amazonaws.com", ECR.replace("eu-", "us-")]
    results: list[object] = []
    threads = [
        threading.Thread(target=lambda h=h: results.append(keychain.resolve(h))) for h in hosts * 4
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 12 and all(getattr(r, "password", "") == "ecr-secret" for r in results)
    assert sorted(aws_log.read_text().splitlines()) == [
        "ecr get-login-password --region eu-west-1",
        "ecr get-login-password --region us-west-1",
    ]


def test_ecr_without_aws_credentials_is_said_once(
    aws_log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_AWS_MODE", "nocreds")
    keychain = EcrKeychain()
    for _ in range(3):
        with pytest.raises(CredentialUnavailableError) as caught:
            keychain.resolve(ECR)
        assert caught.value.cause == (
            "`aws ecr get-login-password --region eu-west-1` failed with exit status 253"
        )
        assert "`aws configure`" in caught.value.hint
    assert len(aws_log.read_text().splitlines()) == 1


def test_ecr_without_the_aws_cli(fake_bin: Path) -> None:
    with pytest.raises(CredentialUnavailableError) as caught:
        EcrKeychain().resolve(ECR)
    assert caught.value.cause == "aws was not found on PATH"


# --- Azure ACR --------------------------------------------------------------------------------


@pytest.fixture
def az_log(fake_bin: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return install_logged(monkeypatch, fake_bin, "az", "acr-secret")


def test_acr_token_from_the_azure_cli_once_per_registry(az_log: Path) -> None:
    keychain = AcrKeychain()
    for host in (ACR, ACR, "MyRegistry.azurecr.io", "other1.azurecr.io"):
        assert keychain.resolve(host) == BasicCredential(
            ACR_USERNAME, "acr-secret", "the Azure CLI"
        )
    assert az_log.read_text().splitlines() == [
        "acr login --name myregistry --expose-token --output json",
        "acr login --name other1 --expose-token --output json",
    ]
    assert ACR_USERNAME == "00000000-0000-0000-0000-000000000000"


@pytest.mark.parametrize("host", ["azurecr.io", "my-registry.azurecr.io", "x.azurecr.io.evil"])
def test_acr_is_asked_only_for_acr_hosts(az_log: Path, host: str) -> None:
    assert AcrKeychain().resolve(host) is None
    assert not az_log.exists()


def test_acr_before_az_login(az_log: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_AZ_MODE", "nologin")
    with pytest.raises(CredentialUnavailableError) as caught:
        AcrKeychain().resolve(ACR)
    assert caught.value.cause == (
        "`az acr login --name myregistry --expose-token` failed with exit status 1"
    )
    assert "`az login`" in caught.value.hint


def test_acr_output_without_a_token(az_log: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_AZ_TOKEN", "two words")
    with pytest.raises(CredentialUnavailableError) as caught:
        AcrKeychain().resolve(ACR)
    assert caught.value.cause.endswith("printed no access token")


# --- GITHUB_TOKEN -----------------------------------------------------------------------------


def test_github_token_inside_actions_for_ghcr_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_secret")
    monkeypatch.setenv("GITHUB_ACTOR", "octocat")
    keychain = GithubActionsKeychain()
    for ghcr in ("ghcr.io", "ghcr.io:443"):
        assert keychain.resolve(ghcr) == BasicCredential("octocat", "ghs_secret", "GITHUB_TOKEN")
    for other in ("docker.io", "ghcr.io.evil.example", "evil.example/ghcr.io", "pkg.github.com"):
        assert keychain.resolve(other) is None


def test_github_token_outside_actions_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_personal")
    assert GithubActionsKeychain().resolve("ghcr.io") is None
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_TOKEN", "")
    assert GithubActionsKeychain().resolve("ghcr.io") is None


def test_an_explicit_login_wins_over_the_ambient_ones(
    homes: Path, aws_log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_secret")
    write_json(
        homes / "docker" / "config.json",
        {"auths": {"ghcr.io": auth("me", "pat"), ECR: auth("AWS", "pasted")}},
    )
    keychain = default_keychain()
    assert getattr(keychain.resolve("ghcr.io"), "password", None) == "pat"
    assert getattr(keychain.resolve(ECR), "password", None) == "pasted"
    assert not aws_log.exists()
