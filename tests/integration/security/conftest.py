"""Certificate authorities made at test time, and a small guarded gRPC server.

``pki`` writes PEM files for two unrelated CAs ("good" and "rogue"), a
server certificate for localhost/127.0.0.1 and one for a name only
(``registry.ferry.test``), and client certificates from both CAs.

``serve`` starts a real server with ``ferry.grpc_server.create_server`` on
127.0.0.1 port 0, serving health plus a fake RunService and ExecutionService
whose handlers record every call they receive.
"""

from __future__ import annotations

import datetime
import ipaddress
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from ferry.grpc_server import GrpcServer, create_server
from ferry.v1 import (
    execution_service_pb2,
    execution_service_pb2_grpc,
    run_pb2,
    run_service_pb2,
    run_service_pb2_grpc,
)

_ONE_DAY = datetime.timedelta(days=1)


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write(path: Path, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> None:
    path.with_suffix(".crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    path.with_suffix(".key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))


@dataclass
class _Ca:
    name: str
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    @classmethod
    def create(cls, name: str) -> _Ca:
        key = _key()
        now = datetime.datetime.now(datetime.UTC)
        cert = (x509.CertificateBuilder()
                .subject_name(_name(name)).issuer_name(_name(name))
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - _ONE_DAY).not_valid_after(now + _ONE_DAY)
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .add_extension(x509.KeyUsage(
                    digital_signature=True, key_cert_sign=True, crl_sign=True,
                    content_commitment=False, key_encipherment=False, data_encipherment=False,
                    key_agreement=False, encipher_only=False, decipher_only=False),
                    critical=True)
                .sign(key, hashes.SHA256()))
        return cls(name, key, cert)

    def issue(self, common_name: str, *, dns: tuple[str, ...] = (), ips: tuple[str, ...] = (),
              client: bool = False) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        key = _key()
        now = datetime.datetime.now(datetime.UTC)
        usage = ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH
        builder = (x509.CertificateBuilder()
                   .subject_name(_name(common_name)).issuer_name(self.cert.subject)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - _ONE_DAY).not_valid_after(now + _ONE_DAY)
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None),
                                  critical=True)
                   .add_extension(x509.ExtendedKeyUsage([usage]), critical=False))
        names: list[x509.GeneralName] = [x509.DNSName(d) for d in dns]
        names += [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        return builder.sign(self.key, hashes.SHA256()), key


@dataclass(frozen=True)
class Pki:
    """Paths of PEM files (``X.crt`` and ``X.key`` for each ``X``)."""

    folder: Path

    def cert(self, name: str) -> Path:
        return self.folder / f"{name}.crt"

    def key(self, name: str) -> Path:
        return self.folder / f"{name}.key"


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    folder = tmp_path_factory.mktemp("pki")
    good, rogue = _Ca.create("Ferry Test CA"), _Ca.create("Rogue CA")
    _write(folder / "ca", good.cert, good.key)
    _write(folder / "rogue-ca", rogue.cert, rogue.key)
    _write(folder / "server", *good.issue("localhost", dns=("localhost",), ips=("127.0.0.1",)))
    _write(folder / "named-server", *good.issue("registry.ferry.test",
                                                 dns=("registry.ferry.test",)))
    _write(folder / "client", *good.issue("runner-1", client=True))
    _write(folder / "rogue-client", *rogue.issue("intruder", client=True))
    return Pki(folder)


@dataclass
class Calls:
    """Every call the fake servicers' handlers received, by method name."""

    names: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, name: str) -> None:
        with self.lock:
            self.names.append(name)


class FakeRunService(run_service_pb2_grpc.RunServiceServicer):
    def __init__(self, calls: Calls) -> None:
        self.calls = calls

    def GetRun(self, request, context):  # noqa: N802 - gRPC method name
        self.calls.record("GetRun")
        return run_service_pb2.GetRunResponse(run=run_pb2.Run(id=request.id))

    def CancelRun(self, request, context):  # noqa: N802
        self.calls.record("CancelRun")
        return run_service_pb2.CancelRunResponse()

    def WatchRun(self, request, context):  # noqa: N802
        self.calls.record("WatchRun")
        for _ in range(2):
            yield run_service_pb2.WatchRunResponse()


class FakeExecutionService(execution_service_pb2_grpc.ExecutionServiceServicer):
    def __init__(self, calls: Calls) -> None:
        self.calls = calls

    def ClaimRun(self, request, context):  # noqa: N802
        self.calls.record("ClaimRun")
        return execution_service_pb2.ClaimRunResponse()


@pytest.fixture
def calls() -> Calls:
    return Calls()


@pytest.fixture
def serve(calls: Calls) -> Iterator[Callable[..., GrpcServer]]:
    """``serve(credentials=None, interceptors=())`` -> a started server."""
    started: list[GrpcServer] = []

    def start(*, credentials: grpc.ServerCredentials | None = None,
              interceptors: tuple[grpc.ServerInterceptor, ...] = ()) -> GrpcServer:
        def register(server: grpc.Server) -> None:
            run_service_pb2_grpc.add_RunServiceServicer_to_server(FakeRunService(calls), server)
            execution_service_pb2_grpc.add_ExecutionServiceServicer_to_server(
                FakeExecutionService(calls), server)

        server = create_server("127.0.0.1:0", register,
                               ["ferry.v1.RunService", "ferry.v1.ExecutionService"],
                               max_workers=4, interceptors=interceptors,
                               credentials=credentials)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop(grace=0)
