import pytest


@pytest.fixture(autouse=True)
def bureau_dirs(settings, tmp_path):
    """Files go to a temporary media root and outbox."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.METRO2_OUTBOX_DIR = tmp_path / "outbox"
    settings.METRO2_TRANSPORT = "local"
    return tmp_path
