"""Host names that lead to 127.0.0.1, with real TLS: how tests play ECR, ACR and ghcr.io.

A cloud login is chosen by the registry's name (``<account>.dkr.ecr.<region>.amazonaws.com``),
so the real registry must be reached under that name, over https, as pinner would reach the
cloud: nothing in pinner is bypassed. Two pieces do it, both test-only:

- ``issue_certificate(folder, names)``: a throw-away CA and a server certificate for ``names``
  and 127.0.0.1 (``ServerCertificate``: the PEM paths and ``ssl`` contexts for either side);
  pinner trusts the CA through ``SSL_CERT_FILE``, as a user with a private CA does.
- ``resolve_to_loopback(monkeypatch, names)``: ``socket.getaddrinfo`` answers 127.0.0.1 for
  ``names`` in this process (pinner's CLI runs in-process in these tests) and refuses any other
  name that is not loopback, so no query leaves the machine. Returns the names looked up.
"""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class ServerCertificate:
    names: tuple[str, ...]
    ca_path: Path
    cert_path: Path
    key_path: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_path, self.key_path)
        return context

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_path))


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def issue_certificate(folder: Path, names: Iterable[str]) -> ServerCertificate:
    hosts = tuple(names)
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("pinner test CA"))
        .issuer_name(_name("pinner test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    alternative: list[x509.GeneralName] = [x509.DNSName(host) for host in hosts]
    alternative.append(x509.IPAddress(ipaddress.ip_address(LOOPBACK)))
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name(hosts[0] if hosts else LOOPBACK))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName(alternative), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_path, cert_path, key_path = (folder / f"tls-{n}.pem" for n in ("ca", "cert", "key"))
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return ServerCertificate(hosts, ca_path, cert_path, key_path)


def resolve_to_loopback(monkeypatch: pytest.MonkeyPatch, names: Iterable[str]) -> list[str]:
    mapped = {name.lower() for name in names}
    real = socket.getaddrinfo
    looked_up: list[str] = []

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        looked_up.append(name)
        if name.lower() in mapped:
            return real(LOOPBACK, *args, **kwargs)
        if name.lower() in ("localhost", LOOPBACK, "::1"):
            return real(host, *args, **kwargs)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return looked_up
