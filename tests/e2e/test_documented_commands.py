"""Every command printed in SKILL.md and README.md runs as written; the Python in the guide-migration page runs too.

The rules, so that what is tested is what a reader copies:

* Commands are read from the documents at test time: each line of a fenced ```` ```bash ```` block (a trailing
  backslash joins lines, ``# comments`` are dropped). Nothing is rewritten except two documented
  substitutions: ``~`` is the test's home folder (``HOME`` is set to a temporary folder) and the word
  ``python`` at the start of a line is this interpreter.
* They run in order, in a prepared home folder: ``~/Pictures`` holds ``photo.jpg`` (a coffee cup),
  ``cat.jpg``, ``astronaut.jpg`` and ``rocket.jpg`` and is the working folder (the README says to search
  "inside ~/Pictures"); ``~/breeds`` is a gallery with one sub-folder per class.
* Models are the real names, resolved offline from a Hugging Face cache that holds tiny random twins
  (tests/e2e/conftest.py), so ``clipaware ask photo.jpg "how many dogs?"`` loads "facebook/detr-resnet-50"
  exactly as on a user's machine. The tests check that commands work and keep their JSON shape, not that a
  random model's answers are right.
* ``clipaware …`` lines run in-process (tests/helpers.run, as the console script); ``python scripts/…``
  lines run as files. Any other line must match :data:`NOT_RUN` — an explicit list of what is not run and
  why (network, or the test suite itself) — or the test fails, so a new kind of line is never skipped
  silently. SKILL.md may not skip anything.
* A command must exit 0, print no traceback, and with ``--json`` print one JSON document whose top-level
  keys include the ones the documents promise (:data:`JSON_KEYS`).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from skimage import data
from tests.helpers import run

ROOT = Path(__file__).resolve().parents[2]

# Lines that are printed in the documents but not run here, each with the reason.
NOT_RUN: dict[str, str] = {
    r"^pip install\b": "installs packages: needs the network and changes the test environment",
    r"^clipaware models pull\b": "downloads from the Hugging Face hub: needs the network",
    r"^python -m pytest\b": "runs this test suite itself",
    r"^python3 -m venv\b": "creates a virtual environment: the tests already run in one",
    r"^source \.venv/bin/activate$": "activates that environment (a shell built-in)",
}

# Top-level keys each command's --json must contain (from SKILL.md's "JSON an agent parses" and the README).
JSON_KEYS: dict[str, set[str]] = {
    "check": {"query", "clip_ok", "limitations", "parse"},
    "ask": {"query", "image", "answer", "routes", "evidence", "notes", "analysis"},
    "diagnose": {"query", "image", "clip", "probes", "analysis", "routed", "explanation", "picture"},
    "index": {"db", "model", "added", "updated", "removed", "unchanged", "skipped"},
    "doctor": {"ok", "checks"},
    "search --routed": {"query", "routes", "examined", "hits", "skipped"},
}
SHELL_OPERATORS = {"|", "||", "&", "&&", ";", ">", ">>", "<", "(", ")"}


def bash_commands(markdown: str) -> list[str]:
    """The command lines of a document's ```bash blocks, continuation lines joined, blanks and comments out."""
    commands: list[str] = []
    for block in re.findall(r"^```bash[ \t]*\n(.*?)^```", markdown, flags=re.DOTALL | re.MULTILINE):
        joined = re.sub(r"[ \t]*\\\n\s*", " ", block)
        commands += [line.strip() for line in joined.splitlines() if line.strip() and not line.strip().startswith("#")]
    return commands


def python_blocks(markdown: str) -> list[str]:
    return re.findall(r"^```python[ \t]*\n(.*?)^```", markdown, flags=re.DOTALL | re.MULTILINE)


def words_of(command: str) -> list[str]:
    """shlex words with ``~`` expanded; a shell operator (pipe, redirect, ``&&``) is refused: not a plain command."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split, lexer.commenters = True, "#"
    words = list(lexer)
    operators = SHELL_OPERATORS.intersection(words)
    assert not operators, f"{command!r} uses shell operators {operators}: documents must print plain commands"
    return [os.path.expanduser(w) if w.startswith("~") else w for w in words]


def expected_keys(args: list[str]) -> set[str]:
    command = "search --routed" if args[0] == "search" and "--routed" in args else args[0]
    return JSON_KEYS.get(command, set())


@pytest.fixture()
def home(offline_hub: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The prepared home folder (see the module docstring); the working folder is ~/Pictures."""
    home = tmp_path / "home"
    pictures, breeds = home / "Pictures", home / "breeds"
    for folder in (pictures, breeds / "beagle", breeds / "border_collie"):
        folder.mkdir(parents=True)
    for name, image in (("photo", data.coffee()), ("cat", data.chelsea()), ("astronaut", data.astronaut())):
        Image.fromarray(image).save(pictures / f"{name}.jpg", quality=90)
    Image.fromarray(data.rocket()).save(pictures / "rocket.jpg", quality=90)
    Image.fromarray(data.chelsea()[::2, ::2]).save(breeds / "beagle" / "1.jpg")
    Image.fromarray(data.astronaut()[::2, ::2]).save(breeds / "border_collie" / "1.jpg")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(pictures)
    return home


def run_documented(command: str, capsys, monkeypatch) -> str | None:
    """Run one printed command; return None when it worked, else what went wrong."""
    args = words_of(command)
    if args[0] == "clipaware":
        code, out, err = run(capsys, monkeypatch, *args[1:])
    elif args[0] == "python" and len(args) > 1 and args[1].startswith("scripts/"):
        done = subprocess.run(
            [sys.executable, str(ROOT / args[1]), *args[2:]], capture_output=True, text=True, timeout=120
        )
        code, out, err = done.returncode, done.stdout, done.stderr
    else:
        return "neither a clipaware command nor a scripts/ file, and not in NOT_RUN"
    if code != 0 or "Traceback" in err:
        return f"exit {code}: {err.strip()[-500:]}"
    if "--json" in args:
        try:
            payload = json.loads(out)
        except json.JSONDecodeError as exc:
            return f"--json printed no JSON document ({exc})"
        missing = expected_keys(args[1:]) - set(payload if isinstance(payload, dict) else {})
        if missing:
            return f"JSON lacks the documented keys {sorted(missing)}"
    elif not out.strip():
        return "printed nothing"
    return None


def not_run_reason(command: str) -> str | None:
    return next((why for pattern, why in NOT_RUN.items() if re.search(pattern, command)), None)


def run_document(path: Path, capsys, monkeypatch) -> tuple[list[str], list[str]]:
    """Run every command of a document in order: (failures, skipped lines with their reasons)."""
    commands = bash_commands(path.read_text(encoding="utf-8"))
    assert commands, f"{path.name} has no ```bash commands to run"
    failures, skipped = [], []
    for command in commands:
        reason = not_run_reason(command)
        if reason:
            skipped.append(f"{command}  ({reason})")
            continue
        problem = run_documented(command, capsys, monkeypatch)
        if problem:
            failures.append(f"{command}\n    {problem}")
    return failures, skipped


def test_every_skill_command_works_as_written(home, capsys, monkeypatch) -> None:
    failures, skipped = run_document(ROOT / "SKILL.md", capsys, monkeypatch)
    assert not skipped, f"SKILL.md commands must all run: {skipped}"
    assert not failures, "\n".join(failures)
    assert (home / "Pictures" / "why.png").is_file()  # diagnose --out wrote its picture where it says


def test_skill_front_matter_says_when_to_use_and_when_not() -> None:
    text = (ROOT / "SKILL.md").read_text(encoding="utf-8")
    front = re.match(r"^---\n(.*?)\n---\n", text, flags=re.DOTALL)
    assert front, "SKILL.md starts with a --- front matter block"
    fields = dict(re.findall(r"^(\w+):\s*(.*?)(?=^\w+:|\Z)", front.group(1), flags=re.DOTALL | re.MULTILINE))
    assert fields.get("name", "").strip() == "clipaware"
    description = " ".join(fields.get("description", "").split())
    assert "Use it for" in description and "Do NOT use it" in description


def test_every_readme_command_works_as_written(home, capsys, monkeypatch) -> None:
    failures, skipped = run_document(ROOT / "README.md", capsys, monkeypatch)
    assert not failures, "\n".join(failures)
    allowed = ("pip install", "models pull", "pytest", "-m venv", "bin/activate")
    assert all(any(word in line for word in allowed) for line in skipped)
    demo = home / "shapes-demo"  # the offline walk ran: scenes written, indexed with the shipped model
    assert (demo / "scene-00.png").is_file() and (demo / "scenes.txt").is_file() and (demo / ".clipaware.db").is_file()


def test_the_offline_walk_answers_what_the_readme_says(home, capsys, monkeypatch) -> None:
    """The "Try it without a download" walk uses the shipped shapes CLIP and detector, so its answers are
    real: each `ask` line's trailing comment is the answer it must give, and `search` finds the scene it names."""
    walk = [c for c in bash_commands((ROOT / "README.md").read_text("utf-8")) if "shapes-demo" in c]
    assert any(c.startswith("clipaware diagnose") for c in walk) and any(c.startswith("clipaware index") for c in walk)
    checked = 0
    for command in walk:
        args = words_of(command)
        code, out, err = run(capsys, monkeypatch, *args[1:], *(["--json"] if args[1] in ("ask", "search") else []))
        assert code == 0, f"{command}: {err}"
        said = command.split("#", 1)[1].strip() if "#" in command else ""
        if args[1] == "ask":
            from clipaware.tasks.results import answer_words

            assert answer_words(json.loads(out)["answer"]) == said, command
            checked += 1
        if args[1] == "search":
            first = said.split()[0]
            assert Path(json.loads(out)[0]["path"]).stem == first, command
            checked += 1
    assert checked >= 3


def test_guide_migration_python_runs(home, monkeypatch) -> None:
    """docs/coming-from-the-guide.md's Python snippets run, in order, and agree with each other."""
    blocks = python_blocks((ROOT / "docs" / "coming-from-the-guide.md").read_text(encoding="utf-8"))
    assert len(blocks) >= 2
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, "coming-from-the-guide.md", "exec"), namespace)
    import numpy as np

    probs, plain = np.asarray(namespace["probs"]), np.asarray(namespace["plain_probs"])
    assert probs.shape == plain.shape == (2, 3) and np.allclose(probs.sum(axis=1), 1.0)
    # The text side is the same computation in both: it must agree to float precision.
    assert np.allclose(namespace["texts"], namespace["text_emb"].numpy(), atol=1e-5)
    # The image side differs only in decoding (clipaware decodes JPEGs in draft mode, straight to the model's
    # input size; PIL's full decode is resized by the processor), so the probabilities agree closely, not exactly.
    assert np.allclose(probs, plain, atol=0.02) and (probs.argmax(axis=1) == plain.argmax(axis=1)).all()


def test_the_rules_catch_what_they_promise(capsys, monkeypatch) -> None:
    """The extractor and the guards themselves: continuation lines, comments, operators, unknown lines."""
    doc = "```bash\nclipaware check \\\n  'a dog'   # comment\n\n# only a comment\n```\n"
    doc += "```console\n$ clipaware x\n```\n"  # console blocks are transcripts, not commands to run
    assert bash_commands(doc) == ["clipaware check 'a dog'   # comment"]
    assert words_of("clipaware check 'a dog'   # comment") == ["clipaware", "check", "a dog"]
    with pytest.raises(AssertionError, match="shell operators"):
        words_of("clipaware search cats | head")
    assert not_run_reason("pip install -e '.[dev]'") and not not_run_reason("clipaware index ~/Pictures")
    assert run_documented("ls -la", capsys, monkeypatch).startswith("neither")
    assert run_documented("clipaware check --json", capsys, monkeypatch).startswith("exit 2")


def keys_missing(documented: object, real: object, where: str = "") -> list[str]:
    """Keys shown in a documented JSON example that the real output lacks (dicts recursively, lists by item 0)."""
    if isinstance(documented, dict) and isinstance(real, dict):
        missing = [f"{where}.{k}" for k in documented if k not in real and k != "…"]
        return missing + [
            m for k in documented if k in real for m in keys_missing(documented[k], real[k], f"{where}.{k}")
        ]
    if isinstance(documented, list) and isinstance(real, list) and documented and real:
        return keys_missing(documented[0], real[0], f"{where}[0]")
    return []


def test_skill_json_examples_match_the_real_output(home, capsys, monkeypatch) -> None:
    """The ```json examples in SKILL.md (check, then ask) show only keys the commands really print."""
    blocks = re.findall(r"^```json[ \t]*\n(.*?)^```", (ROOT / "SKILL.md").read_text("utf-8"), re.DOTALL | re.MULTILINE)
    check_doc, ask_doc = (json.loads(block) for block in blocks[:2])
    _, out, _ = run(capsys, monkeypatch, "check", check_doc["query"], "--json")
    assert not keys_missing(check_doc, json.loads(out))
    _, out, _ = run(capsys, monkeypatch, "ask", "photo.jpg", ask_doc["query"], "--json")
    real = json.loads(out)
    from clipaware.models.detect import Detection

    if not real["evidence"][0]["counted"]:  # a random tiny detector finds nothing; a box has this shape
        real["evidence"][0]["counted"] = [Detection("cup", 0.9, (0.0, 0.0, 1.0, 1.0)).to_dict()]
    assert not keys_missing(ask_doc, real)
    assert keys_missing({"a": 1, "b": {"c": 1}}, {"a": 1, "b": {}}) == [".b.c"]  # the comparison can fail


def test_readme_python_api_runs(home, monkeypatch) -> None:
    """The README's Python API section runs as printed (``~`` is the test home, models the tiny twins)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("### Python API") :]
    blocks = python_blocks(section[: section.index("\n### ", 5)])
    assert len(blocks) == 1
    namespace: dict[str, object] = {}
    exec(compile(blocks[0], "README.md", "exec"), namespace)
    report, probs = namespace["report"], namespace["probs"]
    assert report.added == 4 and not report.skipped  # type: ignore[attr-defined]
    assert getattr(probs, "shape", None) == (2, 2)
    assert "import clipaware\n" in blocks[0] and "from clipaware" not in blocks[0]  # the public face only
