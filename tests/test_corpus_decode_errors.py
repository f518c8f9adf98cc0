"""A corpus file that is not text in its encoding: the error names the file and the line."""

import gzip
import pathlib
import pickle

import pytest

from skw2v import LineCorpus, Word2VecNS


def test_fit_on_a_pickle_names_the_file_and_line(tmp_path):
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(Word2VecNS()))
    with pytest.raises(ValueError, match=r"(?i)model\.pkl'.*line 1\b.*utf-8") as info:
        Word2VecNS(min_count=1).fit(pathlib.Path(path))
    assert not isinstance(info.value, UnicodeDecodeError)


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("bad_line", [1, 7, 2500])
def test_the_line_is_exact_beyond_the_first_block(tmp_path, gz, bad_line):
    # ~25 bytes a line with 2-byte characters: line 2500 lies far past the first
    # 8 KiB block the text reader decodes, and blocks end inside characters.
    lines = [("é" * 11 + f" {i}").encode() for i in range(3000)]
    lines[bad_line - 1] = lines[bad_line - 1][:5] + b"\xff" + lines[bad_line - 1][5:]
    data = b"\n".join(lines) + b"\n"
    path = tmp_path / ("c.txt.gz" if gz else "c.txt")
    path.write_bytes(gzip.compress(data) if gz else data)
    with pytest.raises(ValueError, match=rf"(?i){path.name}', line {bad_line}\b.*utf-8"):
        list(LineCorpus(path))
