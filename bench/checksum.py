"""Checksum throughput: FAIRlight's streaming SHA-256 against coreutils' sha256sum.

  single stream: one large file, hash_file() vs `sha256sum FILE` (target >= 0.9x throughput);
  many files:    FAIRlight hashing with 2 worker processes vs one `sha256sum FILE...` (target > 1x).
Files are read once before timing so both sides hash from the page cache: the benchmark
measures the hashing, not the disk.

    uv run python bench/checksum.py [--size-mib 512] [--files 64] [--file-mib 8]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import timed

from metadata.imaging.checksum import hash_file


def write_random(path: Path, mib: int) -> None:
    block = os.urandom(1024 * 1024)
    with path.open("wb") as handle:
        for index in range(mib):
            # Vary each block so no layer can deduplicate or compress it away.
            handle.write(index.to_bytes(8, "little") + block[8:])


def sha256sum(paths: list[Path]) -> list[str]:
    output = subprocess.run(
        ["sha256sum", *map(str, paths)], check=True, capture_output=True, text=True
    ).stdout
    return [line.split()[0] for line in output.splitlines()]


def ours_parallel(paths: list[Path], workers: int) -> list[str]:
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return [digests.sha256 for digests in pool.map(hash_file, paths)]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size-mib", type=int, default=512)
    parser.add_argument("--files", type=int, default=64)
    parser.add_argument("--file-mib", type=int, default=8)
    args = parser.parse_args()
    if shutil.which("sha256sum") is None:
        sys.exit("sha256sum (coreutils) is not installed; it is the baseline of this benchmark.")
    folder = Path(tempfile.mkdtemp(prefix="fairlight-bench-checksum-"))
    try:
        big = folder / "big.bin"
        write_random(big, args.size_mib)
        many = [folder / f"part_{index:04d}.bin" for index in range(args.files)]
        for path in many:
            write_random(path, args.file_mib)
        sha256sum([big, *many])  # warm the page cache

        print(f"checksum benchmark: one {args.size_mib} MiB file; {args.files} files of {args.file_mib} MiB")
        ours_digest: list[str] = []
        theirs_digest: list[str] = []
        ours = timed("FAIRlight hash_file, single stream", lambda: ours_digest.append(hash_file(big).sha256))
        theirs = timed("sha256sum, single stream", lambda: theirs_digest.extend(sha256sum([big])))
        assert ours_digest == theirs_digest, "digests differ"
        print(f"  ratio single stream: {theirs / ours:5.2f}x sha256sum's throughput   (target >= 0.9x)")

        parallel: list[str] = []
        serial: list[str] = []
        ours_many = timed(
            "FAIRlight, 2 worker processes, many files", lambda: parallel.extend(ours_parallel(many, 2))
        )
        theirs_many = timed("sha256sum, many files", lambda: serial.extend(sha256sum(many)))
        assert parallel == serial, "digests differ"
        print(
            f"  ratio many files:    {theirs_many / ours_many:5.2f}x sha256sum's throughput   (target > 1x)"
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
