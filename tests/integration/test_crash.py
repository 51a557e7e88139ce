"""SIGKILL at random moments of `clipaware index`: the database always opens, passes integrity_check,
and the next run resumes without re-embedding what was committed.

Starting Python + torch + transformers for each of the 20 runs would cost seconds apiece, so a
"zygote" process imports everything once and forks each `clipaware index` run from there; every run is
a real, separate process executing the real CLI entry point, and it is killed with a real SIGKILL.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from clipaware.index.sqlite import ImageIndex

ZYGOTE = r"""
import json, os, sys
import clipaware.cli, clipaware.tasks.indexing, clipaware.models.clip, faiss  # the heavy imports, once
print("ready", flush=True)
for line in sys.stdin:
    msg = json.loads(line)
    if "reap" in msg:
        _, status = os.waitpid(msg["reap"], 0)
        print(json.dumps({"signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0,
                          "code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None}), flush=True)
        continue
    pid = os.fork()
    if pid == 0:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1); os.dup2(devnull, 2)
        sys.argv = ["clipaware", *msg["argv"]]
        try:
            clipaware.cli.main()
        except SystemExit as exc:
            os._exit(exc.code if isinstance(exc.code, int) else 1)
        os._exit(0)
    print(json.dumps({"pid": pid}), flush=True)
"""


def _exited(pid: int) -> bool:
    """True once ``pid`` is a zombie (finished, not yet reaped by the zygote)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


class Zygote:
    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", ZYGOTE], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
        )
        assert self.proc.stdout is not None and self.proc.stdout.readline().strip() == "ready"

    def ask(self, msg: dict) -> dict:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(msg) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def run(self, argv: list[str], kill_after: float | None) -> int:
        """Fork one `clipaware` run; SIGKILL it after ``kill_after`` s. Returns the killing signal (0: exited)."""
        pid = self.ask({"argv": argv})["pid"]
        if kill_after is not None:
            deadline = time.perf_counter() + kill_after
            while time.perf_counter() < deadline and not _exited(pid):
                time.sleep(0.005)
            os.kill(pid, signal.SIGKILL)  # a zombie (already exited) ignores it
        return self.ask({"reap": pid})["signal"]

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def add_images(folder: Path, start: int, count: int) -> None:
    rng = np.random.default_rng(start)
    for i in range(start, start + count):
        Image.fromarray(rng.integers(0, 255, (24, 24, 3), dtype=np.uint8)).save(folder / f"img{i:03d}.png")


def committed(db: Path) -> dict[str, tuple[float, bytes]]:
    """Check the database like a cautious user would, and return path -> (indexed_at, embedding)."""
    if not db.exists():
        return {}
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()
    if ImageIndex.is_blank(db):  # killed while creating it: the next run must finish the job
        return {}
    with ImageIndex.open(db) as index:
        rows = index.conn.execute("SELECT path, indexed_at, embedding FROM images").fetchall()
        index.search(np.ones(index.dim, np.float32) / np.sqrt(index.dim), 3)
        if len(index) >= 10:  # the run may have died writing the ANN file (threshold 10 here): never trusted
            ann, _ = index.ann()
            assert ann.entries >= len(index)
    return {r[0]: (r[1], r[2]) for r in rows}


@pytest.mark.slow  # 69 s to 4 min on this shared 2-core machine (20 forked runs): CI runs it explicitly
def test_sigkill_at_random_points_never_corrupts_and_resumes(tiny_clip_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    add_images(folder, 0, 20)
    env = {**os.environ, "CLIPAWARE_ANN_THRESHOLD": "10", "OMP_NUM_THREADS": "1"}
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).resolve().parents[2] / "src"), env.get("PYTHONPATH", "")])
    zygote = Zygote(env)
    db = tmp_path / "index.db"
    argv = ["index", str(folder), "--db", str(db), "--model", str(tiny_clip_dir), "--batch-size", "2", "--json"]
    try:
        start = time.perf_counter()  # a full run on a separate database sets the range of kill moments
        assert zygote.run([*argv[:3], str(tmp_path / "calibration.db"), *argv[4:]], kill_after=None) == 0
        full = time.perf_counter() - start
        print(f"a full run takes {full:.2f} s")
        rnd = random.Random(7)
        kills, snapshot, next_image = 0, {}, 20
        for _ in range(20):
            signal_no = zygote.run(argv, kill_after=rnd.uniform(0.0, full))
            kills += signal_no == signal.SIGKILL
            now = committed(db)
            for path, (indexed_at, embedding) in snapshot.items():  # committed rows are never re-embedded
                assert now[path] == (indexed_at, embedding), path
            snapshot = now
            add_images(folder, next_image, 2)  # more work for the next run, so kills keep landing mid-run
            next_image += 2
        assert kills >= 10, f"only {kills} of 20 runs were killed mid-way"
        assert zygote.run(argv, kill_after=None) == 0  # a clean run finishes the job
    finally:
        zygote.close()
    final = committed(db)
    assert set(final) == {str(p) for p in folder.glob("*.png")}
    for path, row in snapshot.items():
        assert final[path] == row
    # the vectors equal those of an index built without any interruption
    with ImageIndex.open(db) as index, ImageIndex.open(tmp_path / "calibration.db") as clean:
        for i in range(20):
            path = str(folder / f"img{i:03d}.png")
            np.testing.assert_array_equal(index.embedding_for_path(path), clean.embedding_for_path(path))
