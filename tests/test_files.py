import os

import pytest

from depthgraph.errors import DepthGraphError, OutputError
from depthgraph.files import writable_path


def test_writable_path_makes_the_missing_folders(tmp_path):
    target = writable_path(tmp_path / "a" / "b" / "out.csv", "results")
    assert target == tmp_path / "a" / "b" / "out.csv"
    assert target.parent.is_dir() and not target.exists()  # the folder made, the file not created


def test_writable_path_refuses_a_folder(tmp_path):
    with pytest.raises(OutputError) as info:
        writable_path(tmp_path, "results")
    assert isinstance(info.value, DepthGraphError)
    assert str(info.value) == f"cannot write results {str(tmp_path)!r}: it is a folder"


def test_writable_path_names_a_folder_it_cannot_make(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(OutputError) as info:
        writable_path(tmp_path / "file" / "out.csv", "results")
    assert str(info.value) == f"cannot write results {str(tmp_path / 'file' / 'out.csv')!r}: File exists"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_writable_path_refuses_a_read_only_folder(tmp_path):
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(OutputError, match="its folder is read-only"):
            writable_path(tmp_path / "out.csv", "results")
    finally:
        tmp_path.chmod(0o700)
