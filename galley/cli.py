"""The `galley` command: run the pipeline and operate it.

    galley up [--data-dir DIR] [--replicas N]   start Redis (embedded) and every service
    galley schema [OUTDIR]                      export a JSON Schema per event type
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path
from types import FrameType

from galley.supervisor import Pipeline


def cmd_up(args: argparse.Namespace) -> int:
    redis_url = os.environ.get("REDIS_URL") or None
    pipeline = Pipeline(Path(args.data_dir), redis_url=redis_url, redis_port=args.redis_port,
                        replicas=args.replicas)
    stop = False

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    pipeline.start()
    where = "embedded" if pipeline.redis else "external"
    print(f"galley: Redis ({where}) at {pipeline.redis_url}", flush=True)
    if pipeline.wait_healthy(timeout=args.start_timeout):
        for p in pipeline.procs:
            print(f"galley: {p.label:<14} http://127.0.0.1:{p.port}", flush=True)
        print(f"galley: data in {pipeline.data_dir}; logs in {pipeline.data_dir / 'logs'}",
              flush=True)
        print("galley: ready. Reader site: http://127.0.0.1:"
              f"{next(p.port for p in pipeline.procs if p.name == 'publish')}/  (Ctrl-C stops)",
              flush=True)
    else:
        print("galley: some services are not healthy yet; see the logs", file=sys.stderr,
              flush=True)
    try:
        while not stop:
            pipeline.supervise_once()
            time.sleep(0.2)
    finally:
        print("galley: stopping", flush=True)
        pipeline.stop()
        print("galley: stopped", flush=True)
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from shared.export_schema import export

    for path in export(Path(args.outdir)):
        print(path)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="galley", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="run the whole pipeline on this machine")
    up.add_argument("--data-dir", default=os.environ.get("GALLEY_DATA_DIR", "data"))
    up.add_argument("--redis-port", type=int, default=int(os.environ.get("GALLEY_REDIS_PORT",
                                                                         "6380")))
    up.add_argument("--replicas", type=int, default=1)
    up.add_argument("--start-timeout", type=float, default=60.0)
    up.set_defaults(func=cmd_up)

    schema = sub.add_parser("schema", help="export a JSON Schema for every event")
    schema.add_argument("outdir", nargs="?", default="schemas")
    schema.set_defaults(func=cmd_schema)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
