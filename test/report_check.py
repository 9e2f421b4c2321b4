#!/usr/bin/env python3
"""Checks that a screenshot of a workbench report shows drawn charts.

usage: report_check.py SCREENSHOT.png
Reads the PNG with the standard library only (zlib; 8-bit RGB or RGBA), then
requires: the page is not blank (enough non-white pixels), and the charts' line
colours are present (the blue, red and green series of the palette). Prints one
line per fact and exits non-zero if one fails.
"""
import struct
import sys
import zlib


def read_png(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise SystemExit(f"{path}: not a PNG")
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            if depth != 8 or ctype not in (2, 6):
                raise SystemExit(f"{path}: PNG colour type {ctype}, depth {depth} not handled")
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev, i = [], bytearray(stride), 0
    for _ in range(h):
        f = raw[i]
        line = bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


def near(px, rgb, tol=40):
    return all(abs(px[k] - rgb[k]) <= tol for k in range(3))


def main():
    w, h, bpp, rows = read_png(sys.argv[1])
    total = w * h
    nonwhite = 0
    found = {"blue": 0, "red": 0, "green": 0}
    want = {"blue": (0x1f, 0x77, 0xb4), "red": (0xd6, 0x27, 0x28), "green": (0x2c, 0xa0, 0x2c)}
    for r in rows[::2]:
        for x in range(0, w * bpp, bpp * 2):
            px = r[x:x + 3]
            if px[0] < 235 or px[1] < 235 or px[2] < 235:
                nonwhite += 1
                for k, rgb in want.items():
                    if near(px, rgb):
                        found[k] += 1
    sampled = (h // 2 + h % 2) * (w // 2 + w % 2)
    share = nonwhite / sampled
    print(f"screenshot {w}x{h}: {100 * share:.2f}% of the sampled pixels are not white")
    ok = share > 0.01
    for k, n in found.items():
        print(f"  {k} series pixels: {n}")
        ok = ok and n > 20
    print("charts drew" if ok else "BLANK or charts missing")
    sys.exit(0 if ok else 1)


main()
