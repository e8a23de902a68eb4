"""Frames per second one upbit-sim process sustains to one subscriber and to several.

    uv run --package upbit-sim python packages/upbit-sim/bench/bench_ws.py [--seconds 8] [--subscribers 1,4]

The simulator runs as a subprocess with `--rate 0` (generate as fast as the clients read) and no rate
limits. Each subscriber is a separate process with a minimal raw-socket WebSocket client that only
splits frames and counts them, so the figure is the server's. A second pass runs at a fixed target
rate (`--target`) to show that the generator keeps a set pace.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

from upbit_sim.catalog import build_catalog


def _connect(host: str, port: int, request: str) -> tuple[socket.socket, bytes]:
    """Open a WebSocket by hand and send one (masked) text frame; returns the socket and leftover bytes."""
    sock = socket.create_connection((host, port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET /websocket/v1 HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    buf = b""
    while b"\r\n\r\n" not in buf:
        buf += sock.recv(4096)
    head, _, rest = buf.partition(b"\r\n\r\n")
    if b" 101 " not in head.split(b"\r\n", 1)[0]:
        raise RuntimeError(head.decode())
    payload = request.encode()
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    n = len(payload)
    header = bytes((0x81, 0x80 | n)) if n < 126 else bytes((0x81, 0x80 | 126)) + n.to_bytes(2, "big")
    sock.sendall(header + mask + masked)
    return sock, rest


def client(host: str, port: int, request: str, warmup: float, seconds: float) -> tuple[int, int, float]:
    """Connect, subscribe, skip `warmup` seconds, then count frames and bytes for `seconds`."""
    sock, rest = _connect(host, port, request)
    data = bytearray(rest)
    frames = nbytes = 0
    counting = False
    start = time.perf_counter()
    t_warm = start + warmup
    t_end = t_warm + seconds
    pos = 0
    while True:
        chunk = sock.recv(1 << 20)
        if not chunk:
            break
        data += chunk
        now = time.perf_counter()
        if not counting and now >= t_warm:
            counting, frames, nbytes = True, 0, 0
        end = len(data)
        while pos + 2 <= end:
            ln = data[pos + 1] & 0x7F
            hdr = 2
            if ln == 126:
                if pos + 4 > end:
                    break
                ln = int.from_bytes(data[pos + 2 : pos + 4], "big")
                hdr = 4
            elif ln == 127:
                if pos + 10 > end:
                    break
                ln = int.from_bytes(data[pos + 2 : pos + 10], "big")
                hdr = 10
            if pos + hdr + ln > end:
                break
            pos += hdr + ln
            frames += 1
            nbytes += hdr + ln
        del data[:pos]
        pos = 0
        if now >= t_end:
            break
    elapsed = time.perf_counter() - t_warm
    sock.close()
    return frames, nbytes, elapsed


def start_sim(args: argparse.Namespace, rate: float) -> tuple[subprocess.Popen[str], str, int]:
    cmd = [
        sys.executable, "-m", "upbit_sim", "serve", "--port", "0", "--no-limits", "--log-interval", "0",
        "--rate", str(rate), "--markets", str(args.markets), "--history-minutes", "1", "--history-days", "30",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    ws = line.split()[1].removeprefix("ws=ws://")
    host, _, port = ws.partition("/")[0].rpartition(":")
    return proc, host, int(port)


def run(args: argparse.Namespace, rate: float, subscribers: int, codes: list[str]) -> dict[str, float]:
    proc, host, port = start_sim(args, rate)
    request = json.dumps(
        [
            {"ticket": "bench"},
            *({"type": t, "codes": codes} for t in args.types.split(",")),
            {"format": args.format},
        ]
    )
    try:
        with ProcessPoolExecutor(subscribers, mp_context=get_context("spawn")) as pool:
            futures = [
                pool.submit(client, host, port, request, args.warmup, args.seconds)
                for _ in range(subscribers)
            ]
            results = [f.result() for f in futures]
    finally:
        proc.terminate()
        proc.wait(10)
    per_sub = [f / s for f, _, s in results]
    mb = sum(b / s for _, b, s in results) / 1e6
    return {"per_subscriber": sum(per_sub) / len(per_sub), "total": sum(per_sub), "mb_s": mb}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--warmup", type=float, default=1.5)
    parser.add_argument("--subscribers", default="1,4")
    parser.add_argument("--markets", type=int, default=10)
    parser.add_argument("--types", default="trade,ticker,orderbook")
    parser.add_argument("--format", default="DEFAULT", choices=["DEFAULT", "SIMPLE"])
    parser.add_argument("--target", type=float, default=20000.0, help="fixed-rate pass (0 skips it)")
    args = parser.parse_args()
    codes = [m.code for m in build_catalog(args.markets, 1)]
    print(
        f"upbit-sim bench: {args.markets} markets, types {args.types}, format {args.format}, "
        f"{os.cpu_count()} cores"
    )
    for n in (int(x) for x in args.subscribers.split(",")):
        r = run(args, 0, n, codes)
        print(
            f"  rate=max  subscribers={n}: {r['per_subscriber']:>9,.0f} frames/s each, "
            f"{r['total']:>9,.0f} frames/s total, {r['mb_s']:.1f} MB/s"
        )
    if args.target:
        r = run(args, args.target, 1, codes)
        print(f"  rate={args.target:,.0f} (target) subscribers=1: {r['per_subscriber']:>9,.0f} frames/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
