#!/usr/bin/env python3
"""Read workload of the read-ahead demo (run in the QEMU guest by experiments/readahead).

Every file is opened when it is read, so a read-ahead change reaches the next file
(Linux copies the device's read-ahead into a file's state at open), and no access hint
is given (no fadvise, no madvise), as most applications do.

  seq   read(2) of bs bytes, each file start to end, the files in order (wrapping)
  rand  open a randomly chosen file, pread(2) `per_file` random 4 KiB pages, close;
        repeat. (read(2), not mmap: the module counts the bytes delivered by
        filemap_read, which page faults do not go through.)
  evict posix_fadvise(POSIX_FADV_DONTNEED) on every file: drops their cached pages

Prints one JSON object: bytes delivered, seconds, and the bytes of every interval.
"""
import argparse
import json
import os
import random
import time

PAGE = 4096


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pattern", choices=["seq", "rand", "evict"], required=True)
    p.add_argument("--seconds", type=float, default=1.0)
    p.add_argument("--bs", type=int, default=32768, help="seq: bytes per read(2)")
    p.add_argument("--per-file", type=int, default=16, help="rand: pages touched per open")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--interval", type=float, default=0.5, help="seconds per throughput sample")
    p.add_argument("files", nargs="+")
    a = p.parse_args()
    if a.seconds <= 0 or a.bs <= 0 or a.per_file <= 0 or a.interval <= 0:
        p.error("--seconds, --bs, --per-file and --interval must be > 0")

    if a.pattern == "evict":
        for path in a.files:
            fd = os.open(path, os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)
        print(json.dumps({"pattern": "evict", "files": len(a.files)}))
        return

    rng = random.Random(a.seed)
    start = time.monotonic()
    end = start + a.seconds
    next_tick = start + a.interval
    samples = []
    total = 0
    in_tick = 0
    i = 0
    now = start
    while now < end:
        if a.pattern == "seq":
            path = a.files[i % len(a.files)]
            i += 1
            fd = os.open(path, os.O_RDONLY)
            try:
                while now < end:
                    n = len(os.read(fd, a.bs))
                    if n == 0:
                        break
                    total += n
                    in_tick += n
                    now = time.monotonic()
                    while now >= next_tick:
                        samples.append(in_tick)
                        in_tick = 0
                        next_tick += a.interval
            finally:
                os.close(fd)
        else:
            path = a.files[rng.randrange(len(a.files))]
            fd = os.open(path, os.O_RDONLY)
            try:
                pages = os.fstat(fd).st_size // PAGE
                for _ in range(a.per_file):
                    n = len(os.pread(fd, PAGE, rng.randrange(pages) * PAGE))
                    total += n
                    in_tick += n
            finally:
                os.close(fd)
            now = time.monotonic()
            while now >= next_tick:
                samples.append(in_tick)
                in_tick = 0
                next_tick += a.interval
        now = time.monotonic()
    elapsed = time.monotonic() - start
    print(json.dumps({"pattern": a.pattern, "bytes": total, "seconds": elapsed, "interval": a.interval, "samples": samples}))


if __name__ == "__main__":
    main()
