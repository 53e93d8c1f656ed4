#!/usr/bin/env python3
"""What a simulated link really delivers, for scripts/netbench.sh.

  netprobe.py serve PORT                 accept connections; sink bulk data, echo pings
  netprobe.py bulk HOST PORT BYTES       send BYTES, print goodput as {"mbit_per_s": ...}
  netprobe.py rtt HOST PORT COUNT        COUNT one-byte round trips, print {"rtt_us_median": ...}

The server handles one connection at a time, in the order they come, and
runs until killed. Goodput is timed at the sender until the receiver has
acknowledged the last byte, so the queue in the shaper is included.
"""
import json
import socket
import statistics
import sys
import time


def serve(port):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("0.0.0.0", port))
    listener.listen(8)
    while True:
        connection, _ = listener.accept()
        with connection:
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            mode = connection.recv(1)
            if mode == b"B":
                expected = int.from_bytes(connection.recv(8, socket.MSG_WAITALL), "big")
                received = 0
                while received < expected:
                    chunk = connection.recv(1 << 20)
                    if not chunk:
                        break
                    received += len(chunk)
                connection.sendall(b"k")
            elif mode == b"P":
                while (byte := connection.recv(1)):
                    connection.sendall(byte)


def connect(host, port, mode):
    connection = socket.create_connection((host, port), timeout=120)
    connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    connection.sendall(mode)
    return connection


def bulk(host, port, total):
    block = bytes(1 << 20)
    with connect(host, port, b"B") as connection:
        connection.sendall(total.to_bytes(8, "big"))
        started = time.perf_counter()
        sent = 0
        while sent < total:
            sent += connection.send(block[: min(len(block), total - sent)])
        connection.recv(1)
        seconds = time.perf_counter() - started
    print(json.dumps({"mbit_per_s": round(total * 8 / seconds / 1e6, 1), "seconds": round(seconds, 3)}))


def rtt(host, port, count):
    times = []
    with connect(host, port, b"P") as connection:
        for _ in range(count):
            started = time.perf_counter()
            connection.sendall(b"x")
            connection.recv(1)
            times.append(time.perf_counter() - started)
    print(json.dumps({"rtt_us_median": round(statistics.median(times) * 1e6, 1)}))


if __name__ == "__main__":
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "serve":
        serve(int(args[0]))
    elif mode == "bulk":
        bulk(args[0], int(args[1]), int(args[2]))
    elif mode == "rtt":
        rtt(args[0], int(args[1]), int(args[2]))
    else:
        sys.exit(f"netprobe: unknown mode {mode} (serve, bulk, rtt)")
