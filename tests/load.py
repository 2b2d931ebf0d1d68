#!/usr/bin/env python3
"""Bounded HTTP load on 127.0.0.1 for the end-to-end tests and the benchmarks.

load.py URL --requests N --clients C [--until-file F] [--host HOST] [--cacert PEM] [--json]
Sends at most N GET requests from C keep-alive clients (stops early when F exists), and prints
a summary: requests, failures (connection errors or non-2xx) and when the first 20 of them were
sent (seconds after the start), bodies seen per line, and latency median and p99 in milliseconds. Only loopback URLs are accepted.

Like browsers and curl, a client whose idle keep-alive connection the server closed just as it
sent a GET sends it again once on a new connection (RFC 9112, 9.3.1: a server may close an idle
connection at any time; idempotent requests may be retried). Such retries are counted apart;
a request that fails on a new connection is a failure.

An https URL is reached with HOST as the TLS server name, its certificate verified against the
CA certificates in PEM: each new connection is a new handshake.
"""
import argparse
import http.client
import json
import os
import ssl
import statistics
import threading
import time
import urllib.parse


class NamedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to an address with another name for SNI and the certificate's check."""

    def __init__(self, address, port, server_name, context, timeout):
        super().__init__(address, port, context=context, timeout=timeout)
        self.server_name = server_name

    def connect(self):
        http.client.HTTPConnection.connect(self)
        self.sock = self._context.wrap_socket(self.sock, server_hostname=self.server_name)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--until-file")
    parser.add_argument("--max-seconds", type=float, default=120)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--host", help="the Host header (default: the URL's)")
    parser.add_argument("--cacert", help="https: the CA certificates to verify the server's against")
    args = parser.parse_args()
    url = urllib.parse.urlsplit(args.url)
    if url.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("load.py only sends traffic to the loopback address")

    def connect():
        if url.scheme == "https":
            context = ssl.create_default_context(cafile=args.cacert)
            return NamedHTTPSConnection(url.hostname, url.port, args.host or url.hostname, context, 10)
        return http.client.HTTPConnection(url.hostname, url.port, timeout=10)

    lock = threading.Lock()
    state = {"left": args.requests, "failures": 0, "retries": 0, "bodies": {}, "latencies": [],
             "order": [], "failed_at": []}
    started = time.monotonic()
    deadline = started + args.max_seconds

    def take():
        with lock:
            if state["left"] <= 0:
                return False
            state["left"] -= 1
            return True

    def client():
        conn = None
        while take():
            if args.until_file and os.path.exists(args.until_file) or time.monotonic() > deadline:
                return
            start = time.perf_counter()
            for attempt in (1, 2):
                reused = conn is not None
                try:
                    if conn is None:
                        conn = connect()
                    conn.request("GET", url.path or "/", headers={"Host": args.host} if args.host else {})
                    response = conn.getresponse()
                    body = response.read().decode(errors="replace").strip()
                    ok = 200 <= response.status < 300
                    if response.getheader("Connection", "").lower() == "close":
                        conn.close()
                        conn = None
                    break
                except (http.client.RemoteDisconnected, ConnectionResetError,
                        BrokenPipeError) as error:
                    conn.close()
                    conn = None
                    ok, body = False, f"error: {type(error).__name__}"
                    if reused and attempt == 1:
                        with lock:
                            state["retries"] += 1
                        continue
                    break
                except (OSError, http.client.HTTPException) as error:
                    ok, body = False, f"error: {type(error).__name__}"
                    if conn is not None:
                        conn.close()
                    conn = None
                    break
            elapsed = (time.perf_counter() - start) * 1000
            with lock:
                state["latencies"].append(elapsed)
                if not ok:
                    state["failures"] += 1
                    state["failed_at"].append(round(time.monotonic() - started - elapsed / 1000, 2))
                key = body if ok else f"FAILED {body}"
                state["bodies"][key] = state["bodies"].get(key, 0) + 1
                state["order"].append(key)

    threads = [threading.Thread(target=client) for _ in range(args.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies = sorted(state["latencies"])
    summary = {
        "requests": len(latencies),
        "failures": state["failures"],
        "retried_idle_closed": state["retries"],
        "bodies": state["bodies"],
        "last": state["order"][-20:],
        "failed_at_seconds": sorted(state["failed_at"])[:20],
        "median_ms": round(statistics.median(latencies), 3) if latencies else None,
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 3) if latencies else None,
    }
    print(json.dumps(summary) if args.json else
          f"{summary['requests']} requests, {summary['failures']} failed "
          f"({summary['retried_idle_closed']} retried after an idle close), "
          f"median {summary['median_ms']} ms, p99 {summary['p99_ms']} ms, bodies {summary['bodies']}")


if __name__ == "__main__":
    main()
