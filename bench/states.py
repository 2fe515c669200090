#!/usr/bin/env python3
"""Reads the connector's stdout (piped in) and measures what its checkpoint policy promises: bytes of output,
bytes and count of STATE messages, the longest gap between two states while records flow (time from the first
record after a state to the next state, block arrival times), identical consecutive states, and the last state.
Prints one line of key=value; with a file argument, writes the last STATE line there.
"""
import fcntl
import json
import sys
import time

src = sys.stdin.buffer.raw if hasattr(sys.stdin.buffer, "raw") else sys.stdin.buffer
try:
    fcntl.fcntl(src.fileno(), 1031, 1 << 20)  # F_SETPIPE_SZ
except OSError:
    pass
total = records = states = state_bytes = identical = 0
carry = b""
last_state = b""
previous_global = None
flow_started = None  # arrival time of the first record since the last state
max_gap = 0.0
t0 = time.monotonic()
first_record_at = last_record_at = None


def line(raw, now):
    global records, states, state_bytes, identical, last_state, previous_global, flow_started, max_gap
    global first_record_at, last_record_at
    if raw.startswith(b'{"type":"RECORD"'):
        records += 1
        if flow_started is None:
            flow_started = now
        if first_record_at is None:
            first_record_at = now
        last_record_at = now
    elif raw.startswith(b'{"type":"STATE"'):
        states += 1
        state_bytes += len(raw) + 1
        last_state = raw
        g = json.loads(raw)["state"]["global"]
        if g == previous_global:
            identical += 1
        previous_global = g
        if flow_started is not None:
            max_gap = max(max_gap, now - flow_started)
        flow_started = None


while True:
    block = src.read(1 << 20)
    if not block:
        break
    now = time.monotonic() - t0
    total += len(block)
    data = carry + block
    cut = data.rfind(b"\n") + 1
    whole, carry = data[:cut], data[cut:]
    for raw in whole.split(b"\n"):
        if raw:
            line(raw, now)
if carry:
    line(carry, time.monotonic() - t0)
if len(sys.argv) > 1:
    with open(sys.argv[1], "wb") as f:
        f.write(last_state + b"\n")
position = json.loads(last_state)["state"]["global"]["shared_state"]["position"] if last_state else "-"
flow = (last_record_at - first_record_at) if first_record_at is not None else 0
print(f"stdout_bytes={total} records={records} states={states} state_bytes={state_bytes} identical={identical} "
      f"max_gap_s={max_gap:.2f} flow_s={flow:.2f} last_position={position}")
