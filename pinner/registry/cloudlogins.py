"""Cloud logins users already have: gcloud, the AWS CLI, the Azure CLI, GitHub Actions' token.

Public API (each a ``Keychain``; each answers only for its own hosts and asks its program at
most once per run for each thing it logs in to, remembering a failure as well):

- ``GcloudKeychain(extra_hosts)``: Google hosts (``gcr.io``, ``*.gcr.io``,
  ``*-docker.pkg.dev``, plus ``extra_hosts``): ``gcloud auth print-access-token``, presented as
  ``oauth2accesstoken:<token>``; one run for all hosts.
- ``EcrKeychain()``: ``<account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]``:
  ``aws ecr get-login-password --region <region>``, user ``AWS``; one run per region (the
  password works for every registry the caller may read there).
- ``AcrKeychain()``: ``<name>.azurecr.io`` (and ``.azurecr.cn``, ``.azurecr.us``):
  ``az acr login --name <name> --expose-token --output json``; its ``accessToken`` is the
  password of the user ``00000000-0000-0000-0000-000000000000``; one run per registry.
- ``GithubActionsKeychain()``: ``ghcr.io`` only, and only inside GitHub Actions
  (``GITHUB_ACTIONS=true``): ``GITHUB_TOKEN`` when it is set.
- ``cloud_login_hint(registry, gcloud_hosts)``: what to run for a cloud host, or ``None``.

Any of them may be given with a port (``host:443``). A program that is missing, fails or
prints no credential raises ``CredentialUnavailableError``: the lookup goes on anonymously
and the error's cause and hint are shown if the registry then refuses.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable

from pinner.jsonload import load_json
from pinner.registry.credentials import (
    BasicCredential,
    Credential,
    Once,
    locate,
    run_login_program,
)
from pinner.registry.errors import CredentialUnavailableError

log = logging.getLogger(__name__)

GCLOUD_USERNAME = "oauth2accesstoken"
ECR_USERNAME = "AWS"
# The username `docker login` is given with the token from `az acr login --expose-token`.
ACR_USERNAME = "00000000-0000-0000-0000-000000000000"
GITHUB_USERNAME = "github-actions"
GITHUB_REGISTRY = "ghcr.io"

_PORT = r"(?::[0-9]+)?"
ECR_HOST_RE = re.compile(
    r"(?P<account>[0-9]{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)"
    rf"\.amazonaws\.com(?:\.cn)?{_PORT}"
)
ACR_HOST_RE = re.compile(rf"(?P<name>[a-z0-9]{{5,50}})\.azurecr\.(?:io|cn|us){_PORT}")

GCLOUD_HINT = "Run `gcloud auth login` (install the Google Cloud CLI first if needed)."
AWS_HINT = (
    "Log in with the AWS CLI (`aws configure` or `aws sso login`) as someone who may pull "
    "from this registry, or run `docker login` with `aws ecr get-login-password`."
)
AZURE_HINT = (
    "Run `az login` as someone who may pull from this registry (install the Azure CLI "
    "first if needed), or `docker login` with a token of the registry."
)
GITHUB_HINT = (
    "Give the workflow's GITHUB_TOKEN `packages: read` permission, and the repository access "
    "to the package in its settings."
)


def _bare(host: str) -> str:
    """``host`` without a port: the port does not change who owns the name."""
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def is_google_host(host: str, extra_hosts: frozenset[str] = frozenset()) -> bool:
    name = _bare(host)
    return (
        name == "gcr.io"
        or name.endswith(".gcr.io")
        or name.endswith("-docker.pkg.dev")
        or host in extra_hosts
    )


def cloud_login_hint(registry: str, gcloud_hosts: frozenset[str]) -> str | None:
    if is_google_host(registry, gcloud_hosts):
        return GCLOUD_HINT
    if ECR_HOST_RE.fullmatch(registry.lower()):
        return AWS_HINT
    if ACR_HOST_RE.fullmatch(registry.lower()):
        return AZURE_HINT
    if _bare(registry) == GITHUB_REGISTRY and os.environ.get("GITHUB_ACTIONS") == "true":
        return GITHUB_HINT
    return None


class GcloudKeychain:
    def __init__(self, extra_hosts: frozenset[str] = frozenset()) -> None:
        self._extra_hosts = extra_hosts
        self._token = Once()

    def resolve(self, registry: str) -> Credential | None:
        if not is_google_host(registry, self._extra_hosts):
            return None
        return self._token("gcloud", _gcloud_credential)


def _gcloud_credential() -> Credential:
    executable = locate("gcloud", hint=GCLOUD_HINT)
    argv = [executable, "auth", "print-access-token", "--quiet"]
    completed = run_login_program(argv, "", "gcloud")
    if completed.returncode != 0:
        cause = (
            "gcloud has no active account"
            if "active account" in completed.stderr
            else f"`gcloud auth print-access-token` failed with exit status {completed.returncode}"
        )
        raise CredentialUnavailableError(cause, hint=GCLOUD_HINT)
    token = _single_token(completed.stdout)
    if token is None:
        raise CredentialUnavailableError("gcloud printed no access token", hint=GCLOUD_HINT)
    log.debug("using an access token from gcloud")
    return BasicCredential(GCLOUD_USERNAME, token, "gcloud", GCLOUD_HINT)


class _PerNameKeychain:
    """Answers for the hosts ``pattern`` matches, logging in once per value of its ``group``
    (an AWS region, an Azure registry)."""

    def __init__(
        self, pattern: re.Pattern[str], group: str, login: Callable[[str], Credential]
    ) -> None:
        self._pattern, self._group, self._login = pattern, group, login
        self._credentials = Once()

    def resolve(self, registry: str) -> Credential | None:
        match = self._pattern.fullmatch(registry.lower())
        if match is None:
            return None
        name = match[self._group]
        return self._credentials(name, lambda: self._login(name))


class EcrKeychain(_PerNameKeychain):
    def __init__(self) -> None:
        super().__init__(ECR_HOST_RE, "region", _ecr_credential)


class AcrKeychain(_PerNameKeychain):
    def __init__(self) -> None:
        super().__init__(ACR_HOST_RE, "name", _acr_credential)


def _login_output(argv: list[str], command: str, hint: str) -> str:
    """What the cloud CLI ``argv[0]`` printed; CredentialUnavailableError if it failed."""
    program = argv[0]
    completed = run_login_program([locate(program, hint=hint), *argv[1:]], "", program)
    if completed.returncode != 0:
        raise CredentialUnavailableError(
            f"{command} failed with exit status {completed.returncode}", hint=hint
        )
    return completed.stdout


def _ecr_credential(region: str) -> Credential:
    command = f"`aws ecr get-login-password --region {region}`"
    output = _login_output(
        ["aws", "ecr", "get-login-password", "--region", region], command, AWS_HINT
    )
    password = _single_token(output)
    if password is None:
        raise CredentialUnavailableError(f"{command} printed no password", hint=AWS_HINT)
    log.debug("using a password from the AWS CLI for region %s", region)
    return BasicCredential(ECR_USERNAME, password, "the AWS CLI", AWS_HINT)


def _acr_credential(name: str) -> Credential:
    argv = ["az", "acr", "login", "--name", name, "--expose-token", "--output", "json"]
    command = f"`az acr login --name {name} --expose-token`"
    output = _login_output(argv, command, AZURE_HINT)
    try:
        token = load_json(output)["accessToken"]  # None if not JSON: a TypeError
    except (KeyError, TypeError):
        token = None
    if not isinstance(token, str) or _single_token(token) is None:
        raise CredentialUnavailableError(f"{command} printed no access token", hint=AZURE_HINT)
    log.debug("using an access token from the Azure CLI for %s", name)
    return BasicCredential(ACR_USERNAME, token, "the Azure CLI", AZURE_HINT)


class GithubActionsKeychain:
    def resolve(self, registry: str) -> Credential | None:
        # Only ghcr.io: the token opens the repository it runs for, and nothing else may see it.
        if _bare(registry) != GITHUB_REGISTRY or os.environ.get("GITHUB_ACTIONS") != "true":
            return None
        token = _single_token(os.environ.get("GITHUB_TOKEN", ""))
        if token is None:
            return None
        user = os.environ.get("GITHUB_ACTOR") or GITHUB_USERNAME
        log.debug("using GITHUB_TOKEN for ghcr.io")
        return BasicCredential(user, token, "GITHUB_TOKEN", GITHUB_HINT)


def _single_token(text: str) -> str | None:
    """``text`` without surrounding white space, if that is one non-empty word."""
    token = text.strip()
    if not token or any(character.isspace() for character in token):
        return None
    return token
