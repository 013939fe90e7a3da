"""The shared sha256 helpers against known digests."""

from __future__ import annotations

import hashlib

from msiqa.hashing import sha256_file, sha256_files, sha256_text

# FIPS 180-2 example: sha256("abc")
ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_text_and_file_digests_agree_with_the_standard(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(b"abc")
    assert sha256_text("abc") == sha256_file(path) == ABC


def test_file_digest_spans_several_read_blocks(tmp_path):
    data = bytes(range(256)) * 10_000  # 2.56 MB: three 1 MiB reads
    (tmp_path / "big").write_bytes(data)
    assert sha256_file(tmp_path / "big") == hashlib.sha256(data).hexdigest()


def test_folder_digest_covers_names_and_contents(tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("one")
    b.write_text("two")
    # by hand: sha256 of b"a.txt\0" + sha256(b"one") + b"b.txt\0" + sha256(b"two")
    expected = hashlib.sha256(
        b"a.txt\0" + hashlib.sha256(b"one").digest() + b"b.txt\0" + hashlib.sha256(b"two").digest()
    ).hexdigest()
    assert sha256_files([a, b]) == expected
    b.write_text("three")
    assert sha256_files([a, b]) != expected
