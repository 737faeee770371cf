"""The README's Helm post-renderer recipe, run as Helm runs a post-renderer.

helm is not installed here, so the test does what `helm install --post-renderer X
--post-renderer-args A ...` does with the rendered chart (Helm 3.9 and later): it looks X up on
PATH, runs `X A ...` with the rendered manifests on standard input, and installs what comes back
on standard output; a non-zero exit stops the install. X and its arguments are read from the
README's command line itself, and the images come from the real docker-registry on 127.0.0.1.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.recipes import clean_environment, readme_block
from tests.support.registry_server import Pusher, RegistryServer

pytestmark = pytest.mark.realregistry

RENDERED = """\
---
# Source: web/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app.kubernetes.io/managed-by: Helm}
spec:
  template:
    spec:
      containers:
      - name: web
        image: "IMAGE_REF"   # from values.yaml
---
# Source: web/templates/service.yaml
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  ports: [{port: 80}]
"""


def post_renderer() -> list[str]:
    """The command Helm runs: the --post-renderer executable and its --post-renderer-args."""
    (line,) = [
        line for line in readme_block("--post-renderer").commands() if "helm install" in line
    ]
    words = shlex.split(line)
    assert words[:2] == ["helm", "install"]
    executable, arguments = None, []
    for index, word in enumerate(words):
        name, equals, value = word.partition("=")
        if name in {"--post-renderer", "--post-renderer-args"}:
            value = value if equals else words[index + 1]
            if name == "--post-renderer":
                executable = value
            else:
                arguments.append(value)
    assert executable is not None, line
    env = clean_environment()
    found = shutil.which(executable, path=f"{Path(sys.executable).parent}:{env['PATH']}")
    assert found is not None, f"{executable} is not on PATH"
    return [found, *arguments]


def helm_post_render(stream: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        post_renderer(), input=stream, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_post_renderer_pins_the_rendered_chart(
    registry_anonymous: RegistryServer, pusher_anonymous: Pusher, unique_repo: str
) -> None:
    digest = pusher_anonymous.push_image(unique_repo, "1.0")
    image = f"{registry_anonymous.host}/{unique_repo}"
    result = helm_post_render(RENDERED.replace("IMAGE_REF", f"{image}:1.0"))
    assert result.returncode == 0, result.stderr
    # Only the image value changed: Helm's comments, the quotes, the Service are as rendered.
    assert result.stdout == RENDERED.replace("IMAGE_REF", f"{image}@{digest}")


def test_a_failed_lookup_stops_the_install(
    registry_anonymous: RegistryServer, unique_repo: str
) -> None:
    result = helm_post_render(
        RENDERED.replace("IMAGE_REF", f"{registry_anonymous.host}/{unique_repo}:9")
    )
    assert result.returncode == 2  # Helm stops: nothing is installed
    assert result.stdout == ""
    assert f"{unique_repo}:9" in result.stderr
