"""`python -m galley.opsweb` is `galley ops-page` (default port 8005): see `--help`."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from galley.cli import main as galley

    return galley(["ops-page", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    raise SystemExit(main())
