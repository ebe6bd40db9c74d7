"""Transport security: the API serves HTTPS when given a certificate and key (its own
process, as `ordo up` starts it), and the Temporal client is set up for mTLS from files."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from temporalio.service import TLSConfig

from cli.processes import free_ports
from config.settings import PROJECT_ROOT, Settings
from config.temporal import tls_config
from tests.harness import wait_until


def self_signed(directory: Path, name: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / f"{name}.crt", directory / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


async def test_the_api_serves_https_with_a_certificate(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path, "api")
    [port] = free_ports(1)
    env = {**os.environ, "ORDO_VAR_DIR": str(tmp_path), "ORDO_API_PORT": str(port),
           "ORDO_TLS_CERTFILE": str(cert), "ORDO_TLS_KEYFILE": str(key), "PYTHONPATH": str(PROJECT_ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "api.app"], env=env, cwd=PROJECT_ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        async with httpx.AsyncClient(verify=str(cert), timeout=5) as https:
            async def up() -> httpx.Response | None:
                assert proc.poll() is None, "the API exited"
                try:
                    return await https.get(f"https://127.0.0.1:{port}/healthz")
                except httpx.ConnectError:
                    return None
            answer = await wait_until(up, "the API over HTTPS", within=60, interval=0.2)
            assert answer.status_code == 200
            assert Settings(api_port=port, tls_certfile=str(cert), tls_keyfile=str(key)).api_url \
                == f"https://127.0.0.1:{port}"
        async with httpx.AsyncClient(timeout=5) as plain:
            with pytest.raises(httpx.HTTPError):  # plain HTTP is not served on that port
                await plain.get(f"http://127.0.0.1:{port}/healthz")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_the_temporal_client_uses_mtls_from_files(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path, "worker")
    ca, _ = self_signed(tmp_path, "ca")
    config = tls_config(Settings(temporal_tls_cert=str(cert), temporal_tls_key=str(key),
                                 temporal_tls_ca=str(ca)))
    assert isinstance(config, TLSConfig)
    assert (config.client_cert, config.client_private_key, config.server_root_ca_cert) == \
        (cert.read_bytes(), key.read_bytes(), ca.read_bytes())
    assert tls_config(Settings(temporal_api_key="k")) is True  # Temporal Cloud: TLS with an API key
    assert tls_config(Settings()) is False
