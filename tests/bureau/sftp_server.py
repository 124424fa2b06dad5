"""A real SFTP server on 127.0.0.1 for the transport tests: paramiko's own
server classes in a thread (SSH transport, password and public-key auth,
the SFTP subsystem) serving a temporary directory."""

import os
import socket
import threading
from pathlib import Path

import paramiko
from paramiko import SFTP_FAILURE, SFTP_NO_SUCH_FILE, SFTP_OK, SFTPAttributes, SFTPHandle, SFTPServerInterface

USERNAME = "bureau"
PASSWORD = "s3cret"


class _Auth(paramiko.ServerInterface):
    def __init__(self, client_key):
        self.client_key = client_key

    def get_allowed_auths(self, username):
        return "password,publickey"

    def check_auth_password(self, username, password):
        ok = username == USERNAME and password == PASSWORD
        return paramiko.AUTH_SUCCESSFUL if ok else paramiko.AUTH_FAILED

    def check_auth_publickey(self, username, key):
        ok = username == USERNAME and self.client_key is not None and key == self.client_key
        return paramiko.AUTH_SUCCESSFUL if ok else paramiko.AUTH_FAILED

    def check_channel_request(self, kind, chanid):
        return (
            paramiko.OPEN_SUCCEEDED if kind == "session" else paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED
        )


class _Handle(SFTPHandle):
    def stat(self):
        try:
            return SFTPAttributes.from_stat(os.fstat(self.readfile.fileno()))
        except OSError as exc:
            return SFTPServer.convert_errno(exc.errno)


class _RootedSFTP(SFTPServerInterface):
    root: Path = Path("/nonexistent")

    def _real(self, path: str) -> Path:
        return self.root / path.lstrip("/")

    def canonicalize(self, path):
        return "/" + path.strip("/") if path not in (".", "") else "/"

    def stat(self, path):
        try:
            return SFTPAttributes.from_stat(os.stat(self._real(path)))
        except OSError as exc:
            return paramiko.SFTPServer.convert_errno(exc.errno)

    lstat = stat

    def list_folder(self, path):
        real = self._real(path)
        return [SFTPAttributes.from_stat(os.stat(real / n), n) for n in os.listdir(real)]

    def open(self, path, flags, attr):
        real = self._real(path)
        try:
            fd = os.open(real, flags, 0o644)
        except OSError as exc:
            return paramiko.SFTPServer.convert_errno(exc.errno)
        mode = "wb" if flags & os.O_WRONLY else "r+b" if flags & os.O_RDWR else "rb"
        handle = _Handle(flags)
        f = os.fdopen(fd, mode)
        handle.readfile = f
        handle.writefile = f
        return handle

    def remove(self, path):
        try:
            os.remove(self._real(path))
        except OSError:
            return SFTP_NO_SUCH_FILE
        return SFTP_OK

    def rename(self, oldpath, newpath):
        if self._real(newpath).exists():
            return SFTP_FAILURE
        os.rename(self._real(oldpath), self._real(newpath))
        return SFTP_OK

    def posix_rename(self, oldpath, newpath):
        os.replace(self._real(oldpath), self._real(newpath))
        return SFTP_OK

    def mkdir(self, path, attr):
        os.mkdir(self._real(path))
        return SFTP_OK


SFTPServer = paramiko.SFTPServer


class LocalSFTPServer:
    """``with LocalSFTPServer(root) as server:`` listens on ``server.port``;
    ``server.known_hosts`` is a known-hosts file naming its host key."""

    def __init__(self, root: Path, *, client_key=None):
        self.root = root
        self.host_key = paramiko.RSAKey.generate(2048)
        self.client_key = client_key
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._transports: list[paramiko.Transport] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def write_known_hosts(self, path: Path) -> Path:
        keys = paramiko.HostKeys()
        keys.add(f"[127.0.0.1]:{self.port}", self.host_key.get_name(), self.host_key)
        keys.save(str(path))
        return path

    def _serve(self):
        rooted = type("Rooted", (_RootedSFTP,), {"root": self.root})
        while not self._stop.is_set():
            try:
                conn, _addr = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            transport = paramiko.Transport(conn)
            transport.add_server_key(self.host_key)
            transport.set_subsystem_handler("sftp", paramiko.SFTPServer, rooted)
            try:
                transport.start_server(server=_Auth(self.client_key))
            except (paramiko.SSHException, EOFError, OSError):
                continue
            self._transports.append(transport)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self.sock.close()
        self._thread.join(timeout=5)
        for transport in self._transports:
            transport.close()
