"""A small HTTP/1.1 load generator (asyncio, keep-alive), run as its own process by `bench_api.py`.

    python loadgen.py URL --rate 500 --seconds 10      # open loop: a request every 1/rate s
    python loadgen.py URL --concurrency 16 --seconds 5 # closed loop: as fast as the server answers

Open-loop latency counts from when a request was *due*, so a stalled server is not hidden by the
generator waiting for it (no coordinated omission). Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Sequence
from urllib.parse import urlsplit


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer


async def connect(host: str, port: int) -> Connection:
    reader, writer = await asyncio.open_connection(host, port)
    return Connection(reader, writer)


async def request(conn: Connection, raw: bytes) -> int:
    conn.writer.write(raw)
    head = await conn.reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    await conn.reader.readexactly(length)
    return status


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


async def run(url: str, *, rate: float | None, concurrency: int, seconds: float) -> dict[str, object]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    raw = f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: application/json\r\n\r\n".encode()
    latencies: list[float] = []
    errors = 0
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(concurrency):
        pool.put_nowait(await connect(host, port))

    async def one(due: float) -> None:
        nonlocal errors
        conn = await pool.get()
        try:
            status = await request(conn, raw)
            if status != 200:
                errors += 1
        except (OSError, asyncio.IncompleteReadError, ValueError):
            errors += 1
            conn.writer.close()
            conn = await connect(host, port)
        latencies.append(time.perf_counter() - due)
        pool.put_nowait(conn)

    start = time.perf_counter()
    if rate:  # open loop
        tasks = []
        total = int(rate * seconds)
        for index in range(total):
            due = start + index / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(due)))
        await asyncio.gather(*tasks)
    else:  # closed loop

        async def worker() -> None:
            while time.perf_counter() - start < seconds:
                await one(time.perf_counter())

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - start
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": errors,
        "rps": len(latencies) / elapsed,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "max_ms": latencies[-1] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--rate", type=float, default=None)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    print(
        json.dumps(
            asyncio.run(run(args.url, rate=args.rate, concurrency=args.concurrency, seconds=args.seconds))
        )
    )


if __name__ == "__main__":
    main()
