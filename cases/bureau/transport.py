"""Delivering a Metro 2 file to the bureaus.

``METRO2_TRANSPORT`` chooses: ``local`` (default) copies the file into
``METRO2_OUTBOX_DIR``; ``sftp`` uploads it with paramiko to
``METRO2_SFTP_HOST``:``METRO2_SFTP_PORT`` as ``METRO2_SFTP_USERNAME``
(private key file ``METRO2_SFTP_KEY_FILE`` or ``METRO2_SFTP_PASSWORD``) into
``METRO2_SFTP_DIRECTORY``. The server's host key must be known
(``METRO2_SFTP_KNOWN_HOSTS``, else the system's): an unknown host is
refused, never trusted on first use.

Both write under a temporary name and rename when complete, so the bureau
never picks up half a file; both return a reference saying where it went.
A failure raises ``TransportError`` with the cause.
"""

import shutil
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class TransportError(Exception):
    """The file could not be delivered (network, authentication, disk)."""


class LocalDirectoryTransport:
    def __init__(self, directory: str | Path):
        self.directory = Path(directory)

    def send(self, *, source: Path, name: str) -> str:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            partial = self.directory / f".{name}.part"
            shutil.copyfile(source, partial)
            target = self.directory / name
            partial.replace(target)
        except OSError as exc:
            raise TransportError(f"Could not write {name} to {self.directory}: {exc}") from exc
        return str(target)


class SFTPTransport:
    def __init__(
        self,
        *,
        host: str,
        port: int = 22,
        username: str,
        password: str = "",
        key_file: str = "",
        directory: str = ".",
        known_hosts: str = "",
        timeout: float = 30,
    ):
        if not host or not username:
            raise ImproperlyConfigured("METRO2_SFTP_HOST and METRO2_SFTP_USERNAME are required for SFTP.")
        self.host, self.port, self.username = host, port, username
        self.password, self.key_file = password, key_file
        self.directory, self.known_hosts, self.timeout = directory.rstrip("/") or ".", known_hosts, timeout

    def send(self, *, source: Path, name: str) -> str:
        import paramiko

        client = paramiko.SSHClient()
        try:
            if self.known_hosts:
                client.load_host_keys(self.known_hosts)
            else:
                client.load_system_host_keys()
            client.set_missing_host_key_policy(paramiko.RejectPolicy())
            client.connect(
                self.host,
                port=self.port,
                username=self.username,
                password=self.password or None,
                key_filename=self.key_file or None,
                timeout=self.timeout,
                banner_timeout=self.timeout,
                auth_timeout=self.timeout,
                look_for_keys=False,
                allow_agent=False,
            )
            sftp = client.open_sftp()
            try:
                partial = f"{self.directory}/.{name}.part"
                target = f"{self.directory}/{name}"
                sftp.put(str(source), partial, confirm=True)
                try:
                    sftp.posix_rename(partial, target)
                except OSError:
                    sftp.rename(partial, target)
            finally:
                sftp.close()
        except (OSError, paramiko.SSHException) as exc:
            raise TransportError(f"SFTP upload of {name} to {self.host}:{self.port} failed: {exc}") from exc
        finally:
            client.close()
        return (
            f"sftp://{self.username}@{self.host}:{self.port}{'' if target.startswith('/') else '/'}{target}"
        )


def get_transport():
    kind = settings.METRO2_TRANSPORT
    if kind == "local":
        return LocalDirectoryTransport(settings.METRO2_OUTBOX_DIR)
    if kind == "sftp":
        return SFTPTransport(
            host=settings.METRO2_SFTP_HOST,
            port=settings.METRO2_SFTP_PORT,
            username=settings.METRO2_SFTP_USERNAME,
            password=settings.METRO2_SFTP_PASSWORD,
            key_file=settings.METRO2_SFTP_KEY_FILE,
            directory=settings.METRO2_SFTP_DIRECTORY,
            known_hosts=settings.METRO2_SFTP_KNOWN_HOSTS,
            timeout=settings.METRO2_SFTP_TIMEOUT,
        )
    raise ImproperlyConfigured(f"METRO2_TRANSPORT must be 'local' or 'sftp', not {kind!r}.")
