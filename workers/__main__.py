"""`python -m workers worker|scheduler`: the same as `stepline worker|scheduler`."""

from __future__ import annotations

import argparse

from workers.main import run_scheduler, run_worker


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m workers")
    commands = parser.add_subparsers(dest="command", required=True)
    worker = commands.add_parser("worker")
    worker.add_argument("--handlers", action="append", default=[])
    worker.add_argument("--concurrency", type=int, default=None)
    worker.add_argument("--pool", default="prefork")
    worker.add_argument("--loglevel", default="INFO")
    commands.add_parser("scheduler")
    args = parser.parse_args()
    if args.command == "worker":
        run_worker(args.handlers, args.concurrency, pool=args.pool, loglevel=args.loglevel)
    else:
        run_scheduler()


if __name__ == "__main__":
    main()
