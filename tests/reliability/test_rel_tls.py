"""TLS: verified by default, a custom CA bundle works, certificate errors are clear and final.

A throwaway certificate authority (made with ``cryptography``) signs a certificate for
127.0.0.1; an HTTPS front on loopback forwards each request to a provider's simulator, so
every driver runs real calls over TLS. Nothing here is ever downgraded to plain HTTP: the
front counts the TCP connections it accepted and the simulator the requests it received.
"""

from __future__ import annotations

import datetime as dt
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from _rel_support import PROVIDERS, leaks, list_once, secrets_of, start_sim
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from cloudkit.errors import NetworkError, TLSError
from cloudkit.providers import get_driver
from cloudkit.testing.simulator import Simulator

#: A default bound for every test here (tests that need less say so themselves).
pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

# -- a throwaway certificate authority ------------------------------------------------------


@dataclass
class Pki:
    ca_pem: Path
    other_ca_pem: Path
    good: tuple[Path, Path]  # cert, key for 127.0.0.1, signed by the CA
    wrong_host: tuple[Path, Path]  # signed by the CA, but for another host name
    expired: tuple[Path, Path]  # signed by the CA, for 127.0.0.1, expired yesterday
    self_signed: tuple[Path, Path]  # for 127.0.0.1, signed by nobody we trust


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _ca(cn: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return key, cert


def _leaf(ca_key: ec.EllipticCurvePrivateKey, ca_cert: x509.Certificate, *, sans: list[x509.GeneralName],
          days: tuple[int, int] = (-1, 30)) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(_name("cloudkit test server")).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now + dt.timedelta(days=days[0])).not_valid_after(now + dt.timedelta(days=days[1]))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return key, cert


def _write(directory: Path, stem: str, key: ec.EllipticCurvePrivateKey, cert: x509.Certificate) -> tuple[Path, Path]:
    cert_path, key_path = directory / f"{stem}.crt", directory / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    directory = tmp_path_factory.mktemp("pki")
    ca_key, ca_cert = _ca("cloudkit throwaway test CA")
    other_key, other_cert = _ca("some other CA")
    loopback: list[x509.GeneralName] = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
    ca_pem = directory / "ca.pem"
    ca_pem.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    other_pem = directory / "other-ca.pem"
    other_pem.write_bytes(other_cert.public_bytes(serialization.Encoding.PEM))
    return Pki(
        ca_pem=ca_pem,
        other_ca_pem=other_pem,
        good=_write(directory, "good", *_leaf(ca_key, ca_cert, sans=loopback)),
        wrong_host=_write(directory, "wrong-host", *_leaf(ca_key, ca_cert, sans=[x509.DNSName("api.example.net")])),
        expired=_write(directory, "expired", *_leaf(ca_key, ca_cert, sans=loopback, days=(-30, -1))),
        self_signed=_write(directory, "self-signed", *_leaf(other_key, other_cert, sans=loopback)),
    )


# -- an HTTPS front for a simulator ---------------------------------------------------------


class TlsFront:
    """HTTPS on 127.0.0.1 that forwards each request to ``target`` (plain HTTP on loopback)."""

    def __init__(self, cert: tuple[Path, Path], target: Simulator) -> None:
        self.accepted = 0
        self.forwarded = 0
        self.handshake_failures = 0
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(cert[0]), str(cert[1]))
        outer = self
        target_port = target.port

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                upstream = http.client.HTTPConnection("127.0.0.1", target_port, timeout=10)
                try:
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    answer = upstream.getresponse()
                    data = answer.read()
                    outer.forwarded += 1
                    self.send_response(answer.status)
                    for name, value in answer.getheaders():
                        if name.lower() not in ("content-length", "connection", "transfer-encoding", "server",
                                                "date"):
                            self.send_header(name, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                finally:
                    upstream.close()

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _forward

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def get_request(self) -> tuple[socket.socket, Any]:
                sock, addr = self.socket.accept()
                outer.accepted += 1
                return sock, addr

            def finish_request(self, request: Any, client_address: Any) -> None:
                try:
                    tls = context.wrap_socket(request, server_side=True)
                except (ssl.SSLError, OSError):
                    outer.handshake_failures += 1
                    return
                try:
                    super().finish_request(tls, client_address)
                finally:
                    tls.close()

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"https://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)


@pytest.fixture
def front_for(pki: Pki) -> Iterator[Any]:
    """``front_for(provider, cert="good")`` → (simulator, TlsFront); all stopped afterwards."""
    started: list[Any] = []

    def make(provider: str, cert: str = "good") -> tuple[Simulator, TlsFront]:
        sim = start_sim(provider)
        started.append(sim)
        front = TlsFront(getattr(pki, cert), sim)
        started.append(front)
        return sim, front

    yield make
    for thing in reversed(started):
        if isinstance(thing, TlsFront):
            thing.close()
        else:
            thing.stop()


def _driver(sim: Simulator, url: str, **kwargs: Any) -> Any:
    cls = get_driver(sim.provider)
    key, secret = sim.credentials
    prefix = getattr(cls.connectionCls, "base_path", "") or ""
    args = (key, secret) if secret is not None else (key,)
    return cls(*args, base_url=url + prefix, max_retries=3, timeout=(3, 5), **kwargs)


# -- the tests -------------------------------------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_driver_verifies_tls_by_default(provider: str) -> None:
    cls = get_driver(provider)
    args = ("user", "not-a-real-password") if provider == "nephoscale" else ("not-a-real-token",)
    driver = cls(*args)
    assert driver.connection.verify is True
    assert driver.connection.base_url.startswith("https://")
    assert driver.connection.secure is True


@pytest.mark.timeout(30)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_custom_ca_bundle_works_over_tls(provider: str, pki: Pki, front_for: Any) -> None:
    sim, front = front_for(provider)
    driver = _driver(sim, front.url, verify=str(pki.ca_pem))
    assert driver.verify_credentials() is True
    assert isinstance(list_once(driver), list)
    assert driver.list_sizes()
    assert front.forwarded >= 3
    assert front.handshake_failures == 0


@pytest.mark.timeout(30)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_untrusted_certificate_is_a_clear_final_tls_error(provider: str, pki: Pki, front_for: Any) -> None:
    """Default verify (the system bundle, which does not hold our CA): TLSError, at once,
    not retried, nothing reached the API, and the message says what is wrong."""
    sim, front = front_for(provider)
    driver = _driver(sim, front.url)
    started = time.monotonic()
    with pytest.raises(TLSError) as info:
        list_once(driver)
    assert time.monotonic() - started < 3.0
    err = info.value
    assert isinstance(err, NetworkError)
    text = str(err)
    assert "TLS verification failed" in text and "certificate" in text.lower()
    assert front.url.split("://", 1)[1] in text or "127.0.0.1" in text
    assert front.accepted == 1, "a certificate error must not be retried"
    assert front.forwarded == 0 and sim.request_count == 0, "nothing may reach the API over a bad TLS link"
    assert not leaks(text + repr(err), secrets_of(sim))


@pytest.mark.timeout(30)
@pytest.mark.parametrize("cert,reason", [
    ("wrong_host", "match"),
    ("expired", "expired"),
    ("self_signed", "certificate"),
])
def test_each_kind_of_bad_certificate_is_refused(cert: str, reason: str, pki: Pki, front_for: Any) -> None:
    """Even with our CA trusted: a certificate for another host, an expired one, or one from
    another CA is refused with TLSError naming the reason."""
    sim, front = front_for("linode", cert)
    driver = _driver(sim, front.url, verify=str(pki.ca_pem))
    with pytest.raises(TLSError) as info:
        driver.verify_credentials()
    assert reason in str(info.value).lower()
    assert front.accepted == 1
    assert sim.request_count == 0


@pytest.mark.timeout(30)
def test_a_bundle_of_another_ca_does_not_trust_the_server(pki: Pki, front_for: Any) -> None:
    sim, front = front_for("digitalocean")
    driver = _driver(sim, front.url, verify=str(pki.other_ca_pem))
    with pytest.raises(TLSError):
        driver.list_locations()
    assert sim.request_count == 0


@pytest.mark.timeout(30)
def test_requests_ca_bundle_environment_variable_is_honoured(pki: Pki, front_for: Any,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    sim, front = front_for("linode")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(pki.ca_pem))
    driver = _driver(sim, front.url)  # verify left at its default (True)
    assert driver.connection.verify is True
    assert driver.verify_credentials() is True
    assert front.forwarded == 1

    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(pki.other_ca_pem))
    monkeypatch.setenv("CURL_CA_BUNDLE", str(pki.other_ca_pem))
    fresh = _driver(sim, front.url)
    with pytest.raises(TLSError):
        fresh.verify_credentials()


@pytest.mark.timeout(30)
def test_plain_http_is_only_used_when_asked_for(pki: Pki, front_for: Any) -> None:
    """An https base URL never falls back to http: talking TLS to a plain HTTP port fails
    with a NetworkError instead of sending the token in clear text elsewhere."""
    sim, _front = front_for("linode")
    driver = _driver(sim, f"https://127.0.0.1:{sim.port}", verify=str(pki.ca_pem))
    assert driver.connection.base_url.startswith("https://")
    with pytest.raises(NetworkError):
        driver.verify_credentials()
    assert sim.request_count == 0
