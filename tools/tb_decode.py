#!/usr/bin/env python3
"""tb_decode.py — an independent reader for TensorBoard event files, used by
the tests (no tensorboard/protobuf package needed; Debian ships neither).

Usage: tb_decode.py EVENTS_FILE  → JSON on stdout:
  {"records": N, "file_version": "...", "events": [{"step": s, "wall_time": t,
   "values": {"tag": value, ...}}, ...]}
Checks every TFRecord's masked CRC32C (length and data) and fails loudly on any
mismatch, truncation or malformed protobuf. The CRC32C here is Python's own
table-driven implementation (reflected polynomial 0x82F63B78), independent of
the engine's bitwise one; it is self-checked on the standard test vector.
"""
import json
import struct
import sys


def _make_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _make_table()


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = _TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def masked(data):
    c = crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283, "crc32c self-check"


def varint(buf, pos):
    shift = result = 0
    while True:
        if pos >= len(buf):
            raise ValueError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def fields(buf):
    """Yields (field number, wire type, value) of one protobuf message."""
    pos = 0
    while pos < len(buf):
        key, pos = varint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            val, pos = varint(buf, pos)
        elif wire == 1:
            val = buf[pos:pos + 8]
            pos += 8
        elif wire == 2:
            n, pos = varint(buf, pos)
            val = buf[pos:pos + n]
            pos += n
        elif wire == 5:
            val = buf[pos:pos + 4]
            pos += 4
        else:
            raise ValueError("unsupported wire type %d" % wire)
        if pos > len(buf):
            raise ValueError("field %d runs past the message" % field)
        yield field, wire, val


def decode_event(buf):
    ev = {"step": 0, "values": {}}
    for field, wire, val in fields(buf):
        if field == 1 and wire == 1:
            ev["wall_time"] = struct.unpack("<d", val)[0]
        elif field == 2 and wire == 0:
            ev["step"] = val - (1 << 64) if val >= 1 << 63 else val
        elif field == 3 and wire == 2:
            ev["file_version"] = val.decode("utf-8")
        elif field == 5 and wire == 2:  # Summary
            for f, w, v in fields(val):
                if f != 1 or w != 2:
                    raise ValueError("unexpected Summary field %d" % f)
                tag, simple = None, None
                for f2, w2, v2 in fields(v):  # Summary.Value
                    if f2 == 1 and w2 == 2:
                        tag = v2.decode("utf-8")
                    elif f2 == 2 and w2 == 5:
                        simple = struct.unpack("<f", v2)[0]
                if tag is None or simple is None:
                    raise ValueError("Summary.Value without tag or simple_value")
                ev["values"][tag] = simple
    return ev


def main():
    data = open(sys.argv[1], "rb").read()
    pos, events, version = 0, [], None
    while pos < len(data):
        if pos + 12 > len(data):
            raise SystemExit("truncated record header at byte %d" % pos)
        header = data[pos:pos + 8]
        (length,) = struct.unpack("<Q", header)
        (len_crc,) = struct.unpack("<I", data[pos + 8:pos + 12])
        if len_crc != masked(header):
            raise SystemExit("length CRC mismatch at byte %d" % pos)
        body = data[pos + 12:pos + 12 + length]
        if len(body) != length or pos + 16 + length > len(data):
            raise SystemExit("truncated record at byte %d" % pos)
        (data_crc,) = struct.unpack("<I", data[pos + 12 + length:pos + 16 + length])
        if data_crc != masked(body):
            raise SystemExit("data CRC mismatch at byte %d" % pos)
        ev = decode_event(body)
        if "file_version" in ev:
            version = ev["file_version"]
        events.append(ev)
        pos += 16 + length
    out = {"records": len(events), "file_version": version,
           "events": [e for e in events if "file_version" not in e]}
    # NaN/Inf are not JSON: spell them as strings.
    for e in out["events"]:
        e["values"] = {k: (v if v == v and abs(v) != float("inf") else repr(v)) for k, v in e["values"].items()}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
