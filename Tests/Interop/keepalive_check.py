"""A peer that completes the HTTP/2 handshake, then never answers anything: a server with
keepalive on must PING it and, when no acknowledgement comes, close the connection.

Usage: keepalive_check.py REPO_ROOT --port N --within SECONDS
Prints "1 passed, 0 failed" or "0 passed, 1 failed: reason"; exits 1 on failure.
"""
import argparse
import sys
import time

from hostile_h2 import ACK, PING, PREFACE, FrameReader, connect, settings_frame


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("root")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--within", type=float, default=3.0)
    args = parser.parse_args()
    sock = connect(args.port)
    sock.sendall(PREFACE + settings_frame())
    reader = FrameReader(sock)
    reader.read(time.monotonic() + args.within)  # until EOF or the deadline; never answers
    pinged = any(f.kind == PING and not f.flags & ACK for f in reader.seen)
    closed = reader.closed
    if pinged and closed:
        print("PASS keepalive: PING sent, connection closed when it went unanswered")
        print("1 passed, 0 failed")
        return
    print("FAIL keepalive: pinged=%s closed=%s within %.1f s" % (pinged, closed, args.within))
    print("0 passed, 1 failed")
    sys.exit(1)


if __name__ == "__main__":
    main()
