"""`python -m galley.opsweb` (or `galley ops-page`): serve the ops page (default port 8005)."""

from __future__ import annotations

import argparse
import os

from galley.opsweb.data import Config


def main(argv: list[str] | None = None) -> int:
    import uvicorn

    from galley.opsweb.app import create_app
    from galley.supervisor import SERVICES

    parser = argparse.ArgumentParser(prog="galley ops-page", description=__doc__)
    parser.add_argument("--host", default=os.environ.get("OPS_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("OPS_PORT", "8005")))
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6380/0"
    )
    parser.add_argument("--data-dir", default=os.environ.get("GALLEY_DATA_DIR", "data"))
    args = parser.parse_args(argv)
    ports = {n: int(os.environ.get(f"{n.upper()}_PORT", p)) for n, p in SERVICES.items()}
    config = Config(
        args.redis_url,
        ports,
        webhooks_url=f"http://127.0.0.1:{ports['webhooks']}",
        data_dir=args.data_dir,
    )
    print(f"galley ops page: http://{args.host}:{args.port}/", flush=True)
    uvicorn.run(create_app(config), host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
