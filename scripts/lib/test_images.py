#!/usr/bin/env python3
"""Test pictures for dptrain's PNG and PGM decoders, written by an encoder
independent of dptrain's: Python's zlib and the PNG specification's filters,
no Pillow.

  test_images.py png OUT.png SPEC.json   one PNG from a spec: width, height, colour_type,
                                         bit_depth, samples (row-major, per channel),
                                         optional palette, trns, interlace, filters
  test_images.py mnist DATA_DIR OUT_DIR INDEX...
                                         test images INDEX of DATA_DIR's t10k files as
                                         INDEX.pgm, INDEX-grey.png, INDEX-rgb.png (colour,
                                         Paeth-filtered), INDEX-palette.png, INDEX-rgba.png and
                                         INDEX-grey-alpha.png (black ink whose opacity makes the
                                         picture when laid over white),
                                         INDEX-inverted.png (dark on light) and INDEX-large.png
                                         (56x56, each pixel doubled)
"""
import gzip
import json
import os
import struct
import sys
import zlib

CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def pack_row(samples, depth):
    """Samples of one row at `depth` bits, packed as the PNG specification says."""
    if depth == 16:
        return b"".join(struct.pack(">H", s) for s in samples)
    if depth == 8:
        return bytes(samples)
    out, bits, filled = bytearray(), 0, 0
    for s in samples:
        bits = (bits << depth) | s
        filled += depth
        if filled == 8:
            out.append(bits)
            bits, filled = 0, 0
    if filled:
        out.append(bits << (8 - filled))
    return bytes(out)


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def filter_row(kind, row, previous, step):
    out = bytearray([kind])
    for i, x in enumerate(row):
        a = row[i - step] if i >= step else 0
        b = previous[i] if previous else 0
        c = previous[i - step] if previous and i >= step else 0
        prediction = [0, a, b, (a + b) // 2, paeth(a, b, c)][kind]
        out.append((x - prediction) & 0xFF)
    return bytes(out)


def png_bytes(spec):
    width, height = spec["width"], spec["height"]
    colour, depth = spec["colour_type"], spec["bit_depth"]
    channels = CHANNELS[colour]
    samples = spec["samples"]
    assert len(samples) == width * height * channels
    step = max(1, channels * depth // 8)
    filters = spec.get("filters", [0, 1, 2, 3, 4])
    raw, previous = bytearray(), None
    for y in range(height):
        row = pack_row(samples[y * width * channels:(y + 1) * width * channels], depth)
        raw += filter_row(filters[y % len(filters)], row, previous, step)
        previous = row
    out = b"\x89PNG\r\n\x1a\n"
    out += chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, spec.get("interlace", 0)))
    out += chunk(b"tEXt", b"Comment\x00written by test_images.py")
    if "palette" in spec:
        out += chunk(b"PLTE", bytes(spec["palette"]))
    if "trns" in spec:
        out += chunk(b"tRNS", bytes(spec["trns"]))
    compressed = zlib.compress(bytes(raw), 9)
    # Two IDAT chunks: a decoder must join them.
    half = len(compressed) // 2
    out += chunk(b"IDAT", compressed[:half]) + chunk(b"IDAT", compressed[half:])
    return out + chunk(b"IEND", b"")


def read_idx(path):
    with gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb") as f:
        data = f.read()
    magic, count = struct.unpack(">II", data[:8])
    dims = magic & 0xFF
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return shape, data[4 + 4 * dims:]


def find(folder, name):
    for candidate in (name + ".gz", name):
        if os.path.exists(os.path.join(folder, candidate)):
            return os.path.join(folder, candidate)
    raise SystemExit(f"{folder}: no {name}")


def write_mnist(data_dir, out_dir, indices):
    (count, rows, columns), pixels = read_idx(find(data_dir, "t10k-images-idx3-ubyte"))
    size = rows * columns
    for index in indices:
        image = list(pixels[index * size:(index + 1) * size])
        def png(suffix, spec):
            spec.setdefault("width", columns)
            spec.setdefault("height", rows)
            with open(os.path.join(out_dir, f"{index}-{suffix}.png"), "wb") as f:
                f.write(png_bytes(spec))
        with open(os.path.join(out_dir, f"{index}.pgm"), "wb") as f:
            f.write(b"P5\n# MNIST test image %d\n%d %d\n255\n" % (index, columns, rows) + bytes(image))
        png("grey", {"colour_type": 0, "bit_depth": 8, "samples": image})
        png("rgb", {"colour_type": 2, "bit_depth": 8, "samples": [v for p in image for v in (p, p, p)], "filters": [4]})
        levels = sorted(set(image))
        png("palette", {"colour_type": 3, "bit_depth": 8, "samples": [levels.index(p) for p in image],
                        "palette": [v for level in levels for v in (level, level, level)]})
        # Black ink at opacity 255 - p laid over white shows exactly p: the decoder must blend.
        png("rgba", {"colour_type": 6, "bit_depth": 8, "samples": [v for p in image for v in (0, 0, 0, 255 - p)]})
        png("grey-alpha", {"colour_type": 4, "bit_depth": 8, "samples": [v for p in image for v in (0, 255 - p)]})
        png("inverted", {"colour_type": 0, "bit_depth": 8, "samples": [255 - p for p in image]})
        large = [image[(y // 2) * columns + x // 2] for y in range(2 * rows) for x in range(2 * columns)]
        png("large", {"colour_type": 0, "bit_depth": 8, "samples": large, "width": 2 * columns, "height": 2 * rows})


def main():
    if sys.argv[1] == "png":
        with open(sys.argv[3]) as f:
            spec = json.load(f)
        with open(sys.argv[2], "wb") as f:
            f.write(png_bytes(spec))
    elif sys.argv[1] == "mnist":
        write_mnist(sys.argv[2], sys.argv[3], [int(i) for i in sys.argv[4:]])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
