"""Real file servers on loopback for the remote-source tests.

- ``SshServer``: OpenSSH's sshd (Debian ``openssh-server``) on a free port,
  with a host key generated for the test and a throwaway user (created with
  ``useradd`` when the tests run as root, else the current user) whose only
  way in is a key generated for the test; sftp through ``internal-sftp``.
- ``FtpServer``: pyftpdlib in a thread, one user with a password; FTPS
  (explicit TLS) with a self-signed certificate on request.

Both wait until the port answers (polled with a deadline), and stop and
clean up on ``close``."""

from __future__ import annotations

import getpass
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path

from tests.support import needs

SSHD = "/usr/sbin/sshd"
STARTUP_SECONDS = 20.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_banner(port: int, prefix: bytes, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
                if sock.recv(64).startswith(prefix):
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"no server answered on port {port} within {STARTUP_SECONDS}s")


def keygen(path: Path) -> Path:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)],
                   check=True, capture_output=True)
    return path


def fingerprint_of(public_key: Path) -> str:
    out = subprocess.run(["ssh-keygen", "-lf", str(public_key)], check=True,
                         capture_output=True, text=True).stdout
    return out.split()[1]


class SshServer:
    def __init__(self) -> None:
        if not os.access(SSHD, os.X_OK):
            needs.unavailable("sshd is not installed (Debian openssh-server); make test "
                              "installs it (TEST_DEBIAN_PACKAGES)")
        # Its own folder, traversable by the throwaway user (sshd reads the
        # authorized keys as that user; pytest's tmp folders are private).
        workdir = Path(tempfile.mkdtemp(prefix="ferry-sshd-"))
        workdir.chmod(0o755)
        self.workdir = workdir
        self.port = free_port()
        self.host_key = keygen(workdir / "host_key")
        self.user_key = keygen(workdir / "user_key")
        self.root = workdir / "home"
        self.root.mkdir()
        self._created_user = ""
        if os.geteuid() == 0:
            self.user = f"ferry{uuid.uuid4().hex[:8]}"
            subprocess.run(["useradd", "--no-create-home", "--home-dir", str(self.root),
                            "--shell", "/usr/sbin/nologin", "-p", "*", self.user],
                           check=True, capture_output=True)
            self._created_user = self.user
            self.password = f"pw-{uuid.uuid4().hex}"
            subprocess.run(["chpasswd"], input=f"{self.user}:{self.password}\n", text=True,
                           check=True, capture_output=True)
            Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        else:
            self.user = getpass.getuser()
            self.password = ""  # only a throwaway user gets one
        authorized = workdir / "authorized_keys"
        shutil.copy(self.user_key.with_suffix(".pub"), authorized)
        entry = pwd.getpwnam(self.user)
        os.chown(self.root, entry.pw_uid, entry.pw_gid)
        config = workdir / "sshd_config"
        config.write_text("\n".join([
            f"Port {self.port}", "ListenAddress 127.0.0.1", f"HostKey {self.host_key}",
            f"PidFile {workdir / 'sshd.pid'}", f"AuthorizedKeysFile {authorized}",
            f"AllowUsers {self.user}", f"PasswordAuthentication {'yes' if self.password else 'no'}",
            "KbdInteractiveAuthentication no", "UsePAM no", "StrictModes no",
            "PermitRootLogin prohibit-password",
            "Subsystem sftp internal-sftp", "ForceCommand internal-sftp", "LogLevel ERROR", ""]))
        self._proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            wait_for_banner(self.port, b"SSH-", self._proc)
        except BaseException:
            self.close()
            raise
        self.fingerprint = fingerprint_of(self.host_key.with_suffix(".pub"))

    def known_hosts(self, path: Path) -> Path:
        key = self.host_key.with_suffix(".pub").read_text().split()
        path.write_text(f"[127.0.0.1]:{self.port} {key[0]} {key[1]}\n")
        return path

    def url(self, path: str) -> str:
        return f"sftp://{self.user}@127.0.0.1:{self.port}{self.root}{path}"

    def put(self, relative: str, data: bytes, mtime: int | None = None) -> Path:
        """A file on the server (owned by the server's user)."""
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        if mtime is not None:
            os.utime(path, (mtime, mtime))
        entry = pwd.getpwnam(self.user)
        for item in [path, *path.parents]:
            if item == self.root:
                break
            os.chown(item, entry.pw_uid, entry.pw_gid)
        return path

    def close(self) -> None:
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        if self._proc.stderr:
            self._proc.stderr.close()
        if self._created_user:
            self._delete_user()
        shutil.rmtree(self.workdir, ignore_errors=True)


    def _delete_user(self) -> None:
        """``userdel`` refuses while the user's sftp sessions (children of the
        sshd above) still wind down after their clients closed: try again
        until they are gone."""
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            done = subprocess.run(["userdel", self._created_user], capture_output=True)
            if done.returncode == 0 or time.monotonic() > deadline:
                return
            time.sleep(0.1)


class FtpServer:
    def __init__(self, workdir: Path, user: str, password: str, tls: bool = False) -> None:
        from pyftpdlib.authorizers import DummyAuthorizer
        from pyftpdlib.handlers import FTPHandler, TLS_FTPHandler
        from pyftpdlib.servers import ThreadedFTPServer

        self.root = workdir / "ftp"
        self.root.mkdir(parents=True, exist_ok=True)
        self.user = user
        authorizer = DummyAuthorizer()
        authorizer.add_user(user, password, str(self.root), perm="elradfmwMT")
        if tls:
            handler = type("Handler", (TLS_FTPHandler,), {})
            handler.certfile = str(_self_signed(workdir))
            handler.tls_control_required = True
            handler.tls_data_required = True
        else:
            handler = type("Handler", (FTPHandler,), {})
        handler.authorizer = authorizer
        handler.banner = "ferry test ftp"
        handler.auth_failed_timeout = 0.1  # a refused login answers at once
        self._server = ThreadedFTPServer(("127.0.0.1", 0), handler)
        self.port = self._server.address[1]
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"handle_exit": False}, daemon=True)
        self._thread.start()
        wait_for_banner(self.port, b"220")

    def url(self, path: str) -> str:
        return f"ftp://{self.user}@127.0.0.1:{self.port}{path}"

    def put(self, relative: str, data: bytes, mtime: int | None = None) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        if mtime is not None:
            os.utime(path, (mtime, mtime))
        return path

    def close(self) -> None:
        self._server.close_all()
        self._thread.join(10)


def _self_signed(workdir: Path) -> Path:
    pem = workdir / "ftps.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-keyout", str(pem), "-out", str(pem)],
                   check=True, capture_output=True)
    return pem
