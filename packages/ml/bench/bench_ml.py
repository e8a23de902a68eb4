"""Benchmark and honesty report of the ML model (not a test: prints figures).

1. Walk-forward tables (models and baselines, every metric) on synthetic series: returns with a planted
   autocorrelation of 0.3, and a pure random walk.
2. Training time (2 candidates x 5 walk-forward folds + the final fit, one thread) for `--sizes`
   (markets x days of synthetic daily history).
3. `--sim`: the simulator's own history as `make up` has it: PostgreSQL and upbit-sim (40 markets),
   120 days of daily candles backfilled, the indicator transform, then `cryptoflow-batch train`: its
   walk-forward table and training time.
4. `--api`: `/api/predict/` latency, p50/p99 at `--rate` (200/s) under `cryptoflow-service serve`, next to
   the bare Django view under the same gunicorn settings, measured in the same run (the service bench's
   load generator and bare view).

    uv run python packages/ml/bench/bench_ml.py [--sizes 40x120,200x365,700x365] [--sim] [--api]

Every database and process it starts is its own and is removed at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cryptoflow_ml import synthetic
from cryptoflow_ml.features import pooled_features
from cryptoflow_ml.training import train, walk_forward_table

HERE = Path(__file__).resolve().parent
SERVICE_BENCH = HERE.parents[1] / "service" / "bench"
SECRET = "bench-only-secret-" + "s" * 40


def synthetic_tables() -> None:
    for title, autocorrelation, seed in (("planted: autocorrelation 0.3", 0.3, 7), ("random walk", 0.0, 8)):
        frame = pooled_features(
            synthetic.markets(12, periods=400, autocorrelation=autocorrelation, seed=seed)
        )
        result = train(frame, interval="1d")
        print(f"\n## {title} (12 markets x 400 days, {len(frame)} rows)")
        print(walk_forward_table(result))


def training_times(sizes: list[tuple[int, int]]) -> None:
    print(f"\n## training time (2 candidates x 5 folds + final fit, one thread; cpus={os.cpu_count()})")
    print(f"{'markets':>8} {'days':>6} {'rows':>8} {'features s':>11} {'train s':>8}")
    for markets, days in sizes:
        series = synthetic.markets(markets, periods=days, seed=1)
        started = time.perf_counter()
        frame = pooled_features(series)
        built = time.perf_counter()
        train(frame, interval="1d")
        done = time.perf_counter()
        print(f"{markets:>8} {days:>6} {len(frame):>8} {built - started:>11.2f} {done - built:>8.2f}")


def simulator_history(state: Path) -> None:
    from cryptoflow_batch import cli, db  # noqa: PLC0415
    from cryptoflow_localstack.postgres_server import PostgresServer  # noqa: PLC0415
    from upbit_sim.testing import start_sim_process  # noqa: PLC0415

    postgres = PostgresServer(state / "pg-sim", durable=False).start()
    sim = start_sim_process("--markets", "40", "--seed", "1", "--rate", "20", "--history-days", "400")
    try:
        dsn = postgres.create_database("sim")
        db.upgrade(dsn)
        import httpx  # noqa: PLC0415

        markets = ",".join(m["market"] for m in httpx.get(f"{sim.rest_url}/v1/market/all").json())
        today = dt.datetime.now(dt.UTC).date()
        base = ["--dsn", dsn, "--rest-url", sim.rest_url]
        start = (today - dt.timedelta(days=120)).isoformat()
        backfill = [*base, "backfill", "--no-progress", "--markets", markets, "--from", start]
        if cli.main([*backfill, "--to", today.isoformat()]) != 0:
            raise SystemExit("backfill failed")
        print("\n## the simulator's history (40 markets, 120 days, as `make up` backfills it)")
        started = time.perf_counter()
        code = cli.main([*base, "train", "--no-progress"])
        print(f"cryptoflow-batch train: exit {code} in {time.perf_counter() - started:.2f} s")
    finally:
        sim.stop()
        postgres.stop()


def api_latency(state: Path, rate: float, seconds: float) -> None:
    sys.path.insert(0, str(SERVICE_BENCH))
    from bench_api import loadgen, wait_up  # noqa: PLC0415

    from cryptoflow_batch import db, ml  # noqa: PLC0415
    from cryptoflow_localstack.postgres_server import PostgresServer  # noqa: PLC0415
    from cryptoflow_localstack.process import free_port  # noqa: PLC0415
    from cryptoflow_localstack.redis_server import RedisServer  # noqa: PLC0415

    postgres = PostgresServer(state / "pg-api", durable=False).start()
    store = RedisServer(state / "redis").start()
    servers: list[subprocess.Popen[bytes]] = []
    try:
        dsn = postgres.create_database("api")
        db.upgrade(dsn)
        plant_marts(dsn, markets=40, days=120)
        ml.train_and_register(dsn, "1d")
        env = {
            **os.environ,
            "CRYPTOFLOW_SERVICE_DATABASE_URL": dsn,
            "CRYPTOFLOW_SERVICE_REDIS_URL": store.url,
            "CRYPTOFLOW_SERVICE_SECRET_KEY": SECRET,
            "CRYPTOFLOW_SERVICE_ANON_THROTTLE_RATE": "100000000/min",
        }
        migrate = [sys.executable, "-m", "cryptoflow_service", "migrate"]
        subprocess.run(migrate, env=env, check=True, capture_output=True)
        ours, bare = free_port(), free_port()
        serve = [sys.executable, "-m", "cryptoflow_service", "serve", "--bind", f"127.0.0.1:{ours}"]
        servers.append(subprocess.Popen(serve, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        count = max(2, (os.cpu_count() or 1) + 1)
        baseline = [sys.executable, "-m", "gunicorn", "bare_django:application",
                    "--bind", f"127.0.0.1:{bare}", "--workers", str(count), "--threads", "4",
                    "--worker-class", "gthread", "--chdir", str(SERVICE_BENCH)]  # fmt: skip
        servers.append(
            subprocess.Popen(baseline, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        )
        # A loaded 2-core machine can take minutes to import Django in every worker.
        wait_up(f"http://127.0.0.1:{ours}/healthz", servers[0], timeout=300)
        wait_up(f"http://127.0.0.1:{bare}/constant/", servers[1], timeout=300)
        targets = {
            "bare Django constant": f"http://127.0.0.1:{bare}/constant/",
            "/api/predict/?market=KRW-C000": f"http://127.0.0.1:{ours}/api/predict/?market=KRW-C000",
            # Another mart read, for context: one market's newest indicator row.
            "/api/indicators/KRW-C000/?limit=1": f"http://127.0.0.1:{ours}/api/indicators/KRW-C000/?limit=1",
        }
        for url in targets.values():
            loadgen(url, concurrency=8, seconds=1)
        print(f"\n## /api/predict/ at {rate:.0f} requests/s (gunicorn, {count} gthread workers x 4 threads)")
        print(f"{'endpoint':<34} {'max rps':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'errors':>6}")
        results = {}
        for name, url in targets.items():
            closed = loadgen(url, concurrency=16, seconds=seconds / 2)  # the maximum, for context
            opened = loadgen(url, rate=rate, concurrency=32, seconds=seconds)
            results[name] = {**opened, "max_rps": closed["rps"]}
            print(
                f"{name:<34} {closed['rps']:>8.0f} {opened['p50_ms']:>8.2f} {opened['p99_ms']:>8.2f} "
                f"{opened['max_ms']:>8.2f} {opened['errors'] + closed['errors']:>6.0f}"
            )
        base = results["bare Django constant"]
        for name in list(targets)[1:]:
            print(
                f"ratio {name} vs bare view: max rps {results[name]['max_rps'] / base['max_rps']:.2f}x, "
                f"p50 {results[name]['p50_ms'] / base['p50_ms']:.2f}x, "
                f"p99 {results[name]['p99_ms'] / base['p99_ms']:.2f}x"
            )
    finally:
        for server in servers:
            server.terminate()
            server.wait(20)
        store.stop()
        postgres.stop()


def plant_marts(dsn: str, *, markets: int, days: int) -> None:
    """Synthetic daily candles up to yesterday and indicator rows, as the marts hold them."""
    import psycopg  # noqa: PLC0415

    today = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    first = today - dt.timedelta(days=days)
    names = ("ma_5", "ma_20", "ma_60", "rsi_14", "macd", "macd_signal", "bb_percent_b", "atr_14",
             "volume_zscore_30d")  # fmt: skip
    with psycopg.connect(dsn) as conn, conn.cursor() as cursor:
        for index in range(markets):
            s = synthetic.series(f"KRW-C{index:03d}", periods=days, seed=index)
            candles, indicators = [], []
            for i in range(days):
                start = first + dt.timedelta(days=i)
                close = f"{s.columns['close'][i]:.8f}"
                candles.append((s.market, start, close, close, close, close, start))
                values = [f"{s.columns[n][i]:.8f}" for n in names]
                indicators.append((s.market, start.date(), close, *values))
            cursor.executemany(
                "INSERT INTO mart.candles_1d VALUES (%s, %s, %s, %s, %s, %s, 1, 1, %s, now())", candles
            )
            cursor.executemany(
                f"""INSERT INTO mart.indicators (market, day, close, {", ".join(names)}, updated_at)
                    VALUES (%s, %s, %s, {", ".join(["%s"] * len(names))}, now())""",  # noqa: S608 - column names
                indicators,
            )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="40x120,200x365,700x365", help="markets x days, comma-separated")
    parser.add_argument("--sim", action="store_true", help="train on the simulator's backfilled history")
    parser.add_argument("--api", action="store_true", help="measure /api/predict/ under gunicorn")
    parser.add_argument("--rate", type=float, default=200.0, help="open-loop request rate (default 200/s)")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each latency measurement")
    parser.add_argument("--no-synthetic", action="store_true", help="skip the synthetic tables and timings")
    args = parser.parse_args()
    if not args.no_synthetic:
        synthetic_tables()
        training_times([(int(m), int(d)) for m, d in (s.split("x") for s in args.sizes.split(","))])
    with tempfile.TemporaryDirectory(prefix="cryptoflow-ml-bench-") as state:
        Path(state).chmod(0o755)  # as root, PostgreSQL runs as 'postgres' and must enter it
        if args.sim:
            simulator_history(Path(state))
        if args.api:
            api_latency(Path(state), args.rate, args.seconds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
