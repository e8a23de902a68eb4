"""Benchmark of the live endpoints under the production server (not a test: prints figures).

Starts its own PostgreSQL and Redis (cryptoflow-localstack), plants tickers for `--markets` markets the
way the stream sink writes them, starts `cryptoflow-service serve` (gunicorn, the default worker setup,
throttling on) and, with the same gunicorn settings, a bare Django view that returns a constant. A second
process (`loadgen.py`) then measures, for each URL:

- closed loop: requests/s with 16 connections for `--seconds`;
- open loop at `--rate` requests/s, or at 80 % of the URL's closed-loop maximum when that is lower (an
  endpoint run above its capacity only measures its queue): p50 / p99 latency (from when each request
  was due).

    uv run --package cryptoflow-service python packages/service/bench/bench_api.py [--rate 500]

Target (issue 6): p99 under 10 ms at 500 requests/s for one market.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from decimal import Decimal
from pathlib import Path
from typing import Any

import redis

from cryptoflow_contracts import redis_keys
from cryptoflow_localstack.postgres_server import PostgresServer
from cryptoflow_localstack.process import free_port
from cryptoflow_localstack.redis_server import RedisServer

HERE = Path(__file__).resolve().parent
SECRET = "bench-only-secret-" + "s" * 40


def plant_tickers(url: str, count: int) -> list[str]:
    client = redis.Redis.from_url(url, decode_responses=True)
    now = int(time.time() * 1000)
    markets = ["KRW-BTC"] + [f"KRW-C{index:03d}" for index in range(count - 1)]
    pipe = client.pipeline()
    for index, market in enumerate(markets):
        price = Decimal(104862000) - index
        fields = {
            "market": market,
            "trade_timestamp": str(now),
            "timestamp": str(now),
            "received_ms": str(now),
            "opening_price": str(price),
            "high_price": str(price + 1000),
            "low_price": str(price - 1000),
            "trade_price": str(price),
            "prev_closing_price": str(price - 500),
            "change": "RISE",
            "change_price": "500",
            "signed_change_price": "500",
            "change_rate": "0.0000047",
            "signed_change_rate": "0.0000047",
            "trade_volume": "1E-8",
            "acc_trade_volume": "1234.5",
            "acc_trade_price": "129468000000.1",
            "acc_trade_volume_24h": "2345.6",
            "acc_trade_price_24h": "2.45E+11",
            "acc_ask_volume": "600.5",
            "acc_bid_volume": "634",
            "side": "BID",
            "highest_52_week_price": "163325000",
            "highest_52_week_date": "2025-10-06",
            "lowest_52_week_price": "72100000",
            "lowest_52_week_date": "2025-04-07",
            "market_state": "ACTIVE",
            "stream_type": "REALTIME",
            "source": "ws",
        }
        pipe.hset(redis_keys.ticker_key(market), mapping=fields)
        pipe.hset(
            redis_keys.MARKETS_KEY, market, json.dumps({"quote_currency": "KRW", "last_seen_ms": str(now)})
        )
    pipe.execute()
    return markets


def wait_up(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not come up")


def loadgen(url: str, **options: Any) -> dict[str, float]:
    args = [sys.executable, str(HERE / "loadgen.py"), url]
    for name, value in options.items():
        args += [f"--{name}", str(value)]
    out = subprocess.run(args, capture_output=True, text=True, check=True, timeout=300)
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=500.0, help="open-loop request rate (default 500/s)")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each measurement")
    parser.add_argument("--markets", type=int, default=200, help="markets with a ticker (default 200)")
    parser.add_argument(
        "--workers", type=int, default=None, help="gunicorn workers (default: serve's default)"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="cryptoflow-bench-") as state:
        Path(state).chmod(0o755)  # as root, PostgreSQL runs as 'postgres' and must enter it
        postgres = PostgresServer(Path(state) / "pg", durable=False).start()
        store = RedisServer(Path(state) / "redis").start()
        servers: list[subprocess.Popen[bytes]] = []
        try:
            db = postgres.create_database("bench")
            env = {
                **os.environ,
                "CRYPTOFLOW_SERVICE_DATABASE_URL": db,
                "CRYPTOFLOW_SERVICE_REDIS_URL": store.url,
                "CRYPTOFLOW_SERVICE_SECRET_KEY": SECRET,
                "CRYPTOFLOW_SERVICE_ANON_THROTTLE_RATE": "100000000/min",  # counted, never reached
            }
            subprocess.run(
                [sys.executable, "-m", "cryptoflow_service", "migrate"],
                env=env,
                check=True,
                capture_output=True,
            )
            markets = plant_tickers(store.url, args.markets)
            ours, bare = free_port(), free_port()
            workers = ["--workers", str(args.workers)] if args.workers else []
            serve = [
                sys.executable,
                "-m",
                "cryptoflow_service",
                "serve",
                "--bind",
                f"127.0.0.1:{ours}",
                *workers,
            ]
            servers.append(
                subprocess.Popen(serve, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            )
            count = args.workers or max(2, (os.cpu_count() or 1) + 1)
            baseline = [
                sys.executable,
                "-m",
                "gunicorn",
                "bare_django:application",
                "--bind",
                f"127.0.0.1:{bare}",
                "--workers",
                str(count),
                "--threads",
                "4",
                "--worker-class",
                "gthread",
                "--chdir",
                str(HERE),
            ]
            servers.append(
                subprocess.Popen(baseline, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            )
            wait_up(f"http://127.0.0.1:{ours}/healthz", servers[0])
            wait_up(f"http://127.0.0.1:{bare}/constant/", servers[1])

            targets = {
                "bare Django constant": f"http://127.0.0.1:{bare}/constant/",
                "/api/realtime-price/KRW-BTC/": f"http://127.0.0.1:{ours}/api/realtime-price/KRW-BTC/",
                f"/api/realtime-price/ ({len(markets)} markets)": f"http://127.0.0.1:{ours}/api/realtime-price/",
            }
            for url in targets.values():  # warm every worker (imports, connections)
                loadgen(url, concurrency=8, seconds=1)
            print(f"cpus={os.cpu_count()}, gunicorn {count} gthread workers x 4 threads, separate loadgen")
            print(
                f"{'endpoint':<36} {'max rps':>9} {'at rps':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} "
                f"{'errors':>6}"
            )
            results: dict[str, tuple[dict[str, float], dict[str, float]]] = {}
            for name, url in targets.items():
                closed = loadgen(url, concurrency=16, seconds=args.seconds / 2)
                rate = min(args.rate, round(0.8 * closed["rps"]))
                opened = loadgen(url, rate=rate, concurrency=32, seconds=args.seconds)
                results[name] = (closed, opened)
                print(
                    f"{name:<36} {closed['rps']:>9.0f} {rate:>7.0f} {opened['p50_ms']:>8.2f} "
                    f"{opened['p99_ms']:>8.2f} {opened['max_ms']:>8.2f} "
                    f"{opened['errors'] + closed['errors']:>6.0f}"
                )
            base_closed, base_open = results["bare Django constant"]
            for name in list(targets)[1:]:
                closed, opened = results[name]
                print(
                    f"ratio {name}: {closed['rps'] / base_closed['rps']:.2f}x the bare view's requests/s, "
                    f"p99 {opened['p99_ms'] / base_open['p99_ms']:.2f}x "
                    f"(the bare view's at {args.rate:.0f}/s)"
                )
            single_p99 = results["/api/realtime-price/KRW-BTC/"][1]["p99_ms"]
            verdict = "met" if single_p99 < 10 else "NOT met"
            print(f"target p99 < 10 ms at {args.rate:.0f}/s for one market: {verdict} ({single_p99:.2f} ms)")
        finally:
            for server in servers:
                server.terminate()
                server.wait(20)
            store.stop()
            postgres.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
