#!/usr/bin/env python3
"""Counts what the connector wrote on stdout (piped in) without parsing it: bytes, lines, RECORD and STATE
messages. Reads in large blocks so that counting costs far less CPU than producing the output.
Prints one line: bytes=N lines=N records=N states=N. With a file argument, writes the last STATE line there.
"""
import fcntl
import sys

RECORD = b'{"type":"RECORD"'
STATE = b'{"type":"STATE"'
src = sys.stdin.buffer.raw if hasattr(sys.stdin.buffer, "raw") else sys.stdin.buffer
try:
    # A 1 MiB pipe (Linux's default ceiling) lets the writer go on while this reader waits for a core.
    fcntl.fcntl(src.fileno(), 1031, 1 << 20)  # F_SETPIPE_SZ
except OSError:
    pass
total = lines = records = states = 0
carry = b""
last_state = b""
while True:
    block = src.read(1 << 20)
    if not block:
        break
    total += len(block)
    lines += block.count(b"\n")
    # Messages start a line; keep the unfinished last line so a marker split across two blocks counts once.
    data = carry + block
    cut = data.rfind(b"\n") + 1
    whole, carry = data[:cut], data[cut:]
    records += whole.count(b"\n" + RECORD) + (1 if whole.startswith(RECORD) else 0)
    found = whole.count(b"\n" + STATE) + (1 if whole.startswith(STATE) else 0)
    if found:
        states += found
        at = whole.rfind(b"\n" + STATE) + 1 if whole.rfind(b"\n" + STATE) >= 0 else 0
        last_state = whole[at:whole.index(b"\n", at)]
if carry.startswith(RECORD):
    records += 1
elif carry.startswith(STATE):
    states += 1
    last_state = carry
if len(sys.argv) > 1:
    with open(sys.argv[1], "wb") as f:
        f.write(last_state + b"\n")
print(f"bytes={total} lines={lines} records={records} states={states}")
