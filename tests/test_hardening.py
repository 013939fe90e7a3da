"""Issue 14: nothing a file or a request can do breaks msiqa or leaks what it should not.

One test (or a few) per numbered defect of the issue, against real parts: the `msiqa` CLI in a
subprocess, the app over HTTP on a real server, real files (a YAML alias bomb, symbolic links to files
outside the project, corrupted `bm25/` arrays). Each test failed on 52a90b7, before the fixes.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from msiqa.config import Settings

PROJECT_ROOT = Path(__file__).resolve().parents[1]  # the source checkout under test

QUOKKA = "Quokkas are small marsupials. Quokkas eat leaves and grasses on Rottnest Island at night.\n"
EITI = (
    "The Extractive Industries Transparency Initiative (EITI) is a multi-stakeholder initiative. "
    "The EITI asks governments to publish what companies pay for oil, gas and minerals.\n"
)
# 9 levels of 9 aliases: 387 million "lol"s once expanded; 8.7 GB before the old loader was killed.
ALIAS_BOMB = (
    "---\n"
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(f"{b}: &{b} [{','.join(['*' + a] * 9)}]\n" for a, b in zip("abcdefgh", "bcdefghi", strict=True))
    + "title: *i\n---\nThe body of the alias bomb.\n"
)


def cli(*args: str | bytes, timeout: float = 300, memory_bytes: int | None = None):
    """`python -m msiqa.cli ARGS` in a subprocess, as a user runs it; returns the CompletedProcess."""
    env = dict(
        os.environ,
        HF_HUB_OFFLINE="1",
        PYTHONPATH=os.pathsep.join([str(PROJECT_ROOT / "src"), str(PROJECT_ROOT)]),
        PYTHONIOENCODING="utf-8",
    )

    def limit() -> None:  # an address-space cap, so a runaway parse fails instead of eating the machine
        if memory_bytes:
            resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))

    return subprocess.run(
        [sys.executable, "-m", "msiqa.cli", *args],
        capture_output=True,
        timeout=timeout,
        env=env,
        preexec_fn=limit,
    )


def project(root: Path, embedder, files: dict[str, str]) -> Settings:
    """seeds/ with `files` and a built index, under `root`."""
    from msiqa.indexing.build import build_index

    seeds = root / "seeds"
    seeds.mkdir(parents=True)
    for name, text in files.items():
        (seeds / name).write_text(text, encoding="utf-8")
    settings = Settings(seeds_dir=seeds, index_dir=root / "index")
    build_index(settings, embedder)
    return settings


def where(settings: Settings) -> list[str]:
    return ["--seeds", str(settings.seeds_dir), "--index", str(settings.index_dir)]


# 1. A YAML alias bomb in front matter ------------------------------------------------------------


@pytest.mark.slow
def test_1_alias_bomb_is_skipped_by_add_and_the_other_file_is_added(tmp_path):
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    (incoming / "bomb.md").write_text(ALIAS_BOMB, encoding="utf-8")
    (incoming / "quokka.md").write_text(QUOKKA, encoding="utf-8")
    seeds, index = tmp_path / "seeds", tmp_path / "index"
    done = cli(
        "add", str(incoming), "--seeds", str(seeds), "--index", str(index), "--json", memory_bytes=4 << 30
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    report = json.loads(done.stdout)
    assert report["added"] == ["quokka.md"]
    [skipped] = report["skipped"]
    assert skipped["path"].endswith("bomb.md") and "anchors or aliases" in skipped["reason"]
    assert not (seeds / "bomb.md").exists()


def test_1_bad_front_matter_in_seeds_skips_that_file_with_its_reason(tmp_path):
    from msiqa.ingest.corpus import load_corpus

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "bomb.md").write_text(ALIAS_BOMB, encoding="utf-8")
    (seeds / "huge-header.md").write_text("---\nnotes: " + "x" * 20_000 + "\n---\nText.\n", encoding="utf-8")
    (seeds / "long-title.md").write_text(
        "---\ntitle: " + "t" * 5_000 + "\n---\nText here.\n", encoding="utf-8"
    )
    (seeds / "nested.md").write_text("---\ntitle: [a, [b, c]]\n---\nSome text.\n", encoding="utf-8")
    (seeds / "quokka.md").write_text(QUOKKA, encoding="utf-8")
    corpus = load_corpus(seeds)
    assert [d.path for d in corpus.documents] == ["quokka.md"]
    reasons = {s.path: s.reason for s in corpus.skipped}
    assert "anchors or aliases" in reasons["bomb.md"]
    assert "over the 16,384 limit" in reasons["huge-header.md"]
    assert "'title' is over the 1,000-character limit" in reasons["long-title.md"]
    assert "must be a single value" in reasons["nested.md"]


# 2. `msiqa add DIR` follows symlinks -------------------------------------------------------------


@pytest.mark.slow
def test_2_add_never_follows_a_symlink(tmp_path, embedder):
    settings = project(tmp_path / "p", embedder, {"quokka.md": QUOKKA})
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.md").write_text("The secret launch code is 0000-SECRET.\n", encoding="utf-8")
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    (incoming / "notes.txt").symlink_to("/etc/os-release")
    (incoming / "x.md").symlink_to("../outside/secret.md")
    (incoming / "eiti.txt").write_text(EITI, encoding="utf-8")
    direct = tmp_path / "passwd-link.txt"
    direct.symlink_to("/etc/passwd")
    done = cli("add", str(incoming), str(direct), *where(settings), "--json")
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    report = json.loads(done.stdout)
    assert report["added"] == ["eiti.txt"]
    refused = {Path(s["path"]).name: s["reason"] for s in report["skipped"]}
    assert set(refused) == {"notes.txt", "x.md", "passwd-link.txt"}
    assert all("symbolic link" in reason for reason in refused.values())
    assert sorted(p.name for p in settings.seeds_dir.iterdir()) == ["eiti.txt", "quokka.md"]
    chunks = (settings.index_dir / "chunks.jsonl").read_text(encoding="utf-8")
    assert "SECRET" not in chunks and "root:" not in chunks and "PRETTY_NAME" not in chunks


@pytest.mark.slow
def test_2_a_symlink_put_in_seeds_by_hand_is_skipped_and_named_in_the_manifest(tmp_path, embedder):
    settings = project(tmp_path / "p", embedder, {"quokka.md": QUOKKA})
    (settings.seeds_dir / "passwd.txt").symlink_to("/etc/passwd")
    from msiqa.indexing.build import build_index

    report = build_index(settings, embedder)
    assert report.documents == 1
    manifest = json.loads((settings.index_dir / "manifest.json").read_text(encoding="utf-8"))
    assert [s["path"] for s in manifest["skipped"]] == ["passwd.txt"]
    assert "symbolic link" in manifest["skipped"][0]["reason"]
    assert "root:" not in (settings.index_dir / "chunks.jsonl").read_text(encoding="utf-8")


# 3. bm25/ is not covered by the manifest's hashes --------------------------------------------------


def _zero_csc_data(index: Path) -> None:
    import numpy as np

    path = index / "bm25" / "data.csc.index.npy"
    size = path.stat().st_size
    with path.open("r+b") as handle:  # zero the float data after the .npy header, keeping the size
        np.lib.format.read_magic(handle)
        np.lib.format.read_array_header_1_0(handle)
        handle.write(b"\0" * (size - handle.tell()))
    assert path.stat().st_size == size


def _shuffle_vocab(index: Path) -> None:
    path = index / "bm25" / "vocab.index.json"
    vocab = json.loads(path.read_text(encoding="utf-8"))
    ids = list(vocab.values())
    path.write_text(json.dumps(dict(zip(vocab, ids[1:] + ids[:1], strict=True))), encoding="utf-8")


@pytest.mark.slow
def test_3_zeroed_bm25_array_is_refused_with_no_rebuild_by_the_cli(tmp_path, embedder):
    settings = project(tmp_path / "p", embedder, {"quokka.md": QUOKKA, "eiti.txt": EITI})
    _zero_csc_data(settings.index_dir)
    done = cli("ask", "What is the EITI?", *where(settings), "--retriever", "bm25", "--no-rebuild")
    assert done.returncode == 2, done.stdout.decode()[-1000:]
    message = done.stderr.decode()
    assert "data.csc.index.npy" in message and "msiqa build" in message and "Traceback" not in message


@pytest.mark.slow
@pytest.mark.parametrize("damage", [_zero_csc_data, _shuffle_vocab], ids=["zeroed-csc", "shuffled-vocab"])
def test_3_damaged_bm25_is_detected_and_rebuilt(tmp_path, embedder, damage, caplog):
    from msiqa.engine import ensure_index
    from msiqa.errors import IndexStale

    settings = project(tmp_path / "p", embedder, {"quokka.md": QUOKKA, "eiti.txt": EITI})
    before = {p.name: p.read_bytes() for p in (settings.index_dir / "bm25").iterdir()}
    damage(settings.index_dir)
    with pytest.raises(IndexStale, match="bm25"):
        ensure_index(settings, embedder, rebuild=False)
    index = ensure_index(settings, embedder, rebuild=True)
    assert "bm25" in caplog.text  # the warning says why it rebuilt
    assert {p.name: p.read_bytes() for p in (settings.index_dir / "bm25").iterdir()} == before
    assert index.bm25 is not None


# 5. Terminal escape sequences ------------------------------------------------------------------------

HOSTILE = (
    '---\nid: hostile\ntitle: "Quokka notes \\e]0;pwned\\a\\e[2J"\n---\n'
    "Quokkas eat leaves \x1b[2J and grasses \x1b]0;owned\x07 on Rottnest Island at night.\n"
)


@pytest.mark.slow
def test_5_control_sequences_in_documents_never_reach_the_terminal_raw(tmp_path, embedder):
    settings = project(tmp_path / "p", embedder, {"hostile.md": HOSTILE, "eiti.txt": EITI})
    docs = cli("docs", *where(settings))
    ask = cli("ask", "What do quokkas eat on Rottnest Island?", *where(settings))
    exact = cli("ask", "What do quokkas eat on Rottnest Island?", *where(settings), "--json")
    for done in (docs, ask):
        assert done.returncode == 0, done.stderr.decode()[-2000:]
        assert b"\x1b" not in done.stdout and b"\x07" not in done.stdout
        assert b"\\x1b" in done.stdout  # shown escaped, not silently changed
    assert b"Quokka notes" in docs.stdout and b"Quokkas eat leaves" in ask.stdout
    quotes = [c["quote"] for c in json.loads(exact.stdout)["citations"]]
    assert any("\x1b[2J" in q and "\x07" in q for q in quotes)  # --json stays exact


# 6. Input that crashes instead of being refused ------------------------------------------------------

BAD_UTF8 = "The question is not valid UTF-8 text"


def test_6_invalid_utf8_question_on_the_command_line_is_a_one_line_message(tmp_path):
    done = cli("ask", b"\xff\xfe What is the EITI?", "--index", str(tmp_path / "none"), timeout=120)
    assert done.returncode == 2
    err = done.stderr.decode()
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert BAD_UTF8 in err


@pytest.mark.parametrize("top_k", ["abc", "-5", "0", "51"])
def test_6_top_k_out_of_range_is_refused_by_the_cli(tmp_path, top_k):
    done = cli("ask", "What is the EITI?", "--top-k", top_k, "--index", str(tmp_path / "none"), timeout=120)
    assert done.returncode == 2
    err = done.stderr.decode()
    assert "Traceback" not in err
    assert "must be a whole number from 1 to 50" in err


# 8. Files and ids ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_8_names_the_loader_skips_are_refused_and_add_exits_non_zero(tmp_path, embedder):
    settings = project(tmp_path / "p", embedder, {"quokka.md": QUOKKA})
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    for name in ("_x.txt", ".x.txt"):
        (incoming / name).write_text(EITI, encoding="utf-8")
    done = cli("add", str(incoming / "_x.txt"), str(incoming / ".x.txt"), *where(settings))
    assert done.returncode == 1
    out = done.stdout.decode()
    assert "added" not in out.replace("nothing was added", "")
    assert out.count("never indexed") == 2
    assert not (settings.seeds_dir / "_x.txt").exists() and not (settings.seeds_dir / ".x.txt").exists()


@pytest.mark.slow
def test_8_non_latin_names_get_distinct_ids(tmp_path, embedder):
    from msiqa.indexing.build import add_files

    settings = project(tmp_path / "p", embedder, {"quokka.md": QUOKKA})
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    (incoming / "报告.txt").write_text(EITI, encoding="utf-8")
    (incoming / "отчёт.txt").write_text("Отчёт о кенгуру. Quokkas are not kangaroos.\n", encoding="utf-8")
    (incoming / "✓✓.txt").write_text("A file named with symbols only has text too.\n", encoding="utf-8")
    report = add_files(settings, embedder, [incoming])
    assert sorted(report.added) == sorted(["✓✓.txt", "отчёт.txt", "报告.txt"]) and not report.skipped
    ids = json.loads((settings.index_dir / "manifest.json").read_text(encoding="utf-8"))["documents"]
    assert {"baogao", "otchet"} <= set(ids) and len(ids) == 4
    assert all(i.isascii() and i != "document" for i in ids)


def test_8_front_matter_ids_that_would_share_an_anchor_are_refused(tmp_path):
    from msiqa.ingest.corpus import load_corpus
    from msiqa.web.render import doc_anchor

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "a.md").write_text("---\nid: 20.quokka\n---\n" + QUOKKA, encoding="utf-8")
    (seeds / "b.md").write_text("---\nid: 20-quokka\n---\n" + EITI, encoding="utf-8")
    corpus = load_corpus(seeds)
    assert [d.doc_id for d in corpus.documents] == ["20-quokka"]
    assert "may use only letters, digits" in corpus.skipped[0].reason
    anchors = [doc_anchor(d.doc_id) for d in corpus.documents]
    assert len(set(anchors)) == len(anchors)


KILLED_BUILD = """
import os, signal, sys
from pathlib import Path
from msiqa.config import Settings
from msiqa.indexing import store
from msiqa.indexing.build import build_index
from msiqa.indexing.embedding import load_embedder

store._swap_into_place = lambda tmp, target: os.kill(os.getpid(), signal.SIGKILL)  # dies mid-write
settings = Settings(seeds_dir=Path(sys.argv[1]), index_dir=Path(sys.argv[2]))
build_index(settings, load_embedder(settings.model, settings.model_sha256))
"""


@pytest.mark.slow
def test_8_a_killed_build_leaves_a_folder_the_next_build_removes(tmp_path, embedder):
    from msiqa.indexing.build import build_index

    settings = project(tmp_path / "p", embedder, {"quokka.md": QUOKKA})
    (settings.seeds_dir / "eiti.txt").write_text(EITI, encoding="utf-8")
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=f"{PROJECT_ROOT / 'src'}{os.pathsep}{PROJECT_ROOT}")
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_BUILD, str(settings.seeds_dir), str(settings.index_dir)],
        env=env,
        capture_output=True,
        timeout=300,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()[-2000:]
    pattern = f".{settings.index_dir.name}.tmp-*"
    assert list(settings.index_dir.parent.glob(pattern)), "the killed build left no temporary folder"
    build_index(settings, embedder, incremental=True)
    assert not list(settings.index_dir.parent.glob(pattern))


@pytest.mark.slow
def test_8_build_shows_a_progress_bar_with_documents_chunks_and_eta(tmp_path, embedder, capfd):
    from msiqa.indexing.build import build_index

    seeds = tmp_path / "seeds"
    shutil.copytree(PROJECT_ROOT / "seeds", seeds)
    settings = Settings(seeds_dir=seeds, index_dir=tmp_path / "index")
    build_index(settings, embedder, progress=True)
    err = capfd.readouterr().err
    assert "embedding" in err and "chunk" in err and "documents" in err
    assert "<" in err  # tqdm's "elapsed<remaining": the ETA
    build_index(settings, embedder, incremental=False, progress=False)
    assert "embedding" not in capfd.readouterr().err
