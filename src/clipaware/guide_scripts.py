"""The three scripts the clip-aware-embeddings guide promised, as thin doors into the clipaware CLI.

The guide tells people (and agents) to run ``python scripts/validate_setup.py``,
``python scripts/validate_clip_usage.py --query "…" --check-all`` and
``python scripts/diagnose_clip_issue.py --image PATH --query "…"``. Those commands should just work, and give
exactly what ``clipaware doctor`` / ``check`` / ``diagnose`` give: so each function here only translates the
guide's flags into the CLI's arguments and hands over to :func:`clipaware.cli.main`. There is no second
implementation to drift. The same functions are the console scripts ``clipaware-validate-setup``,
``clipaware-validate-clip-usage`` and ``clipaware-diagnose-clip-issue`` (``pyproject.toml``), and
``scripts/*.py`` call them, so a clone without an install works too.

Options the guide does not name are passed through unchanged (``--model``, ``--detector``, ``--out``, …), so
everything the CLI command can do the script can do.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["diagnose_clip_issue", "validate_clip_usage", "validate_setup"]


def _parser(prog: str, equivalent: str, description: str) -> argparse.ArgumentParser:
    return argparse.ArgumentParser(
        prog=prog,
        description=f"{description} Same as `{equivalent}`.",
        epilog=f"Other options go to `{equivalent}` unchanged; see `clipaware {equivalent.split()[1]} --help`.",
    )


def _hand_over(arguments: list[str]) -> None:
    """Run the clipaware CLI with these arguments, as the ``clipaware`` console script would."""
    from clipaware.cli import main

    sys.argv = ["clipaware", *arguments]
    main()


def validate_setup(argv: Sequence[str] | None = None) -> None:
    """``validate_setup.py [--json]`` → ``clipaware doctor [--json]`` (exit 0 only when ready)."""
    parser = _parser("validate_setup.py", "clipaware doctor", "Check that clipaware and its default model can run.")
    parser.add_argument("--json", action="store_true", help="Print JSON for programs.")
    args, rest = parser.parse_known_args(argv)
    _hand_over(["doctor", *(["--json"] if args.json else []), *rest])


def validate_clip_usage(argv: Sequence[str] | None = None) -> None:
    """``validate_clip_usage.py --query Q [--check-all] [--json]`` → ``clipaware check Q [...]``.

    Prints ✅ when CLIP is appropriate, ❌ with the limitation, the words that show it and what to use instead.
    """
    parser = _parser(
        "validate_clip_usage.py",
        "clipaware check QUERY",
        "Say whether CLIP is the right tool for a text query, and if not, what to use instead.",
    )
    parser.add_argument("--query", required=True, help='The query, in quotes: --query "three dogs on a sofa".')
    parser.add_argument("--check-all", action="store_true", help="List every check with pass/fail.")
    parser.add_argument(
        "--json", action="store_true", help='Print {"query", "language", "clip_ok", "limitations", "parse"}.'
    )
    args, rest = parser.parse_known_args(argv)
    flags = [*(["--check-all"] if args.check_all else []), *(["--json"] if args.json else [])]
    _hand_over(["check", *flags, *rest, "--", args.query])  # "--": a query may start with a dash


def diagnose_clip_issue(argv: Sequence[str] | None = None) -> None:
    """``diagnose_clip_issue.py --image PATH --query Q [--out PNG] [--json]`` → ``clipaware diagnose ...``."""
    parser = _parser(
        "diagnose_clip_issue.py",
        "clipaware diagnose",
        "Explain an unexpected CLIP result: its score against unrelated captions, contrastive probes, "
        "the analyzer's verdict and the routed answer.",
    )
    parser.add_argument("--image", required=True, help="The image CLIP got wrong.")
    parser.add_argument("--query", required=True, help="The query it got wrong.")
    parser.add_argument("--out", help="Also write a picture (PNG): detected boxes beside a patch-text heat-map.")
    parser.add_argument("--json", action="store_true", help="Print JSON for programs.")
    args, rest = parser.parse_known_args(argv)
    flags = [*(["--out", args.out] if args.out else []), *(["--json"] if args.json else [])]
    _hand_over(["diagnose", "--image", args.image, "--query", args.query, *flags, *rest])
