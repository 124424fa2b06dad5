"""The SFTP transport against a real SFTP server on 127.0.0.1 (paramiko's
server classes in a thread): upload under a temporary name then rename,
password and key authentication, and an unknown host key refused."""

from pathlib import Path

import paramiko
import pytest

from cases.bureau.transport import SFTPTransport, TransportError, get_transport
from tests.bureau.sftp_server import PASSWORD, USERNAME, LocalSFTPServer


@pytest.fixture
def source(tmp_path) -> Path:
    path = tmp_path / "file.txt"
    path.write_text("0426HEADER" + " " * 416 + "\n")
    return path


@pytest.fixture
def inbox(tmp_path) -> Path:
    root = tmp_path / "sftp-root"
    (root / "inbox").mkdir(parents=True)
    return root


def test_upload_with_a_password_lands_whole_in_the_directory(inbox, source, tmp_path):
    with LocalSFTPServer(inbox) as server:
        transport = SFTPTransport(
            host="127.0.0.1",
            port=server.port,
            username=USERNAME,
            password=PASSWORD,
            directory="/inbox",
            known_hosts=str(server.write_known_hosts(tmp_path / "known_hosts")),
            timeout=10,
        )
        reference = transport.send(source=source, name="METRO2_X_202606.txt")
    assert (inbox / "inbox" / "METRO2_X_202606.txt").read_text() == source.read_text()
    assert sorted(p.name for p in (inbox / "inbox").iterdir()) == ["METRO2_X_202606.txt"]  # no .part left
    assert reference == f"sftp://{USERNAME}@127.0.0.1:{server.port}/inbox/METRO2_X_202606.txt"


def test_upload_with_a_private_key(inbox, source, tmp_path):
    key = paramiko.RSAKey.generate(2048)
    key_file = tmp_path / "id_rsa"
    key.write_private_key_file(str(key_file))
    with LocalSFTPServer(inbox, client_key=key) as server:
        transport = SFTPTransport(
            host="127.0.0.1",
            port=server.port,
            username=USERNAME,
            key_file=str(key_file),
            directory="/inbox",
            known_hosts=str(server.write_known_hosts(tmp_path / "known_hosts")),
            timeout=10,
        )
        transport.send(source=source, name="keyed.txt")
    assert (inbox / "inbox" / "keyed.txt").exists()


def test_an_unknown_host_key_is_refused(inbox, source, tmp_path):
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    with LocalSFTPServer(inbox) as server:
        transport = SFTPTransport(
            host="127.0.0.1",
            port=server.port,
            username=USERNAME,
            password=PASSWORD,
            known_hosts=str(empty),
            timeout=10,
        )
        with pytest.raises(TransportError, match="SFTP upload"):
            transport.send(source=source, name="x.txt")
    assert list((inbox / "inbox").iterdir()) == []


def test_a_wrong_password_is_a_transport_error(inbox, source, tmp_path):
    with LocalSFTPServer(inbox) as server:
        transport = SFTPTransport(
            host="127.0.0.1",
            port=server.port,
            username=USERNAME,
            password="wrong",
            known_hosts=str(server.write_known_hosts(tmp_path / "kh")),
            timeout=10,
        )
        with pytest.raises(TransportError):
            transport.send(source=source, name="x.txt")


def test_settings_choose_the_transport(settings):
    settings.METRO2_TRANSPORT = "sftp"
    settings.METRO2_SFTP_HOST = "sftp.bureau.example"
    settings.METRO2_SFTP_USERNAME = "furnisher"
    assert isinstance(get_transport(), SFTPTransport)
    settings.METRO2_TRANSPORT = "carrier-pigeon"
    with pytest.raises(Exception, match="METRO2_TRANSPORT"):
        get_transport()
