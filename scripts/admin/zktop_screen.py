"""Runs zktop (a curses program with no batch mode) on a pseudo-terminal against one
server, renders what it drew with a terminal emulator (pyte) and checks the server line.

Usage: zktop_screen.py LABEL PORT

zktop polls the server's `stat` word and draws one line per server under
"ID SERVER PORT M OUTST RECVD SENT CONNS MINLAT AVGLAT MAXLAT". After a few seconds the
screen is read, zktop is sent `q` (quit) and the line for 127.0.0.1:PORT must show mode
S (standalone) and numbers in every column; U (unavailable) means zktop could not parse
the server's answer. Prints "PASS zktop:LABEL:..." / "FAIL zktop:LABEL:...: why".
"""

import os
import pty
import re
import select
import signal
import struct
import sys
import time

import fcntl
import pyte
import termios

COLS, ROWS = 132, 40


def run_zktop(port, seconds=5.0):
    """The screen zktop drew after `seconds`, as text lines."""
    screen = pyte.Screen(COLS, ROWS)
    stream = pyte.ByteStream(screen)
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["TERM"] = "xterm"
        os.execvp("zktop", ["zktop", f"--servers=127.0.0.1:{port}", "-t", "5", "-l", ""])
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
    end = time.time() + seconds
    try:
        while time.time() < end:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                try:
                    stream.feed(os.read(fd, 65536))
                except OSError:
                    break
        lines = list(screen.display)
        os.write(fd, b"q")
        deadline = time.time() + 5
        while time.time() < deadline:
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                try:
                    os.read(fd, 65536)
                except OSError:
                    pass
        else:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    finally:
        os.close(fd)
    return lines


def main():
    label, port = sys.argv[1], sys.argv[2]
    lines = run_zktop(port)
    header = any(re.match(r"ID SERVER\s+PORT M\s+OUTST\s+RECVD\s+SENT CONNS", l) for l in lines)
    row = re.compile(
        rf"^\d+\s+127\.0\.0\.1\s+{port}\s+(\w)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+"
        r"(\d+)\s+(\d+(?:\.\d+)?)\s+(\d+)\s*$"
    )
    found = [row.match(l) for l in lines]
    found = [m for m in found if m]
    ok = 0
    if header:
        print(f"PASS zktop:{label}:header")
        ok += 1
    else:
        print(f"FAIL zktop:{label}:header: no server table drawn")
    if found and found[0].group(1) == "S":
        print(f"PASS zktop:{label}:server-line")
        ok += 1
    else:
        shown = [l.rstrip() for l in lines if l.strip()][:8]
        print(f"FAIL zktop:{label}:server-line: {shown}")
    return 0 if ok == 2 else 1


if __name__ == "__main__":
    sys.exit(main())
