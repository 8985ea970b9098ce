"""`python -m benchmarks.profile_summary FILE...`: what raw py-spy recordings say, in brief.

Each FILE is `py-spy record -f raw` output (one stack per line, frames joined by `;`, then a
count). For each: the share of samples by the package of the innermost frame, and the platform's
own functions by inclusive share, so a profile can be read and compared in a commit or a note.
"""

import re
import sys
from collections import Counter
from pathlib import Path

OURS = ("socialsvc_common", "intake", "eligibility", "assignment", "notifications")
FRAME_FILE = re.compile(r"\((.*?)(?::\d+)?\)$")


def package(frame: str) -> str:
    """The top-level package a frame's file belongs to (`stdlib` for the interpreter's own)."""
    found = FRAME_FILE.search(frame)
    path = found.group(1) if found else frame
    return path.split("/", 1)[0] if "/" in path else "stdlib"


def summarise(path: Path, top: int = 14) -> list[str]:
    innermost: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        stack, _, count = line.rpartition(" ")
        samples = int(count)
        total += samples
        frames = stack.split(";")
        innermost[package(frames[-1])] += samples
        ours = {
            f"{frame.split(' (')[0]} [{package(frame)}]"
            for frame in frames
            if package(frame) in OURS
        }
        for name in ours:
            inclusive[name] += samples
    if not total:
        return [f"## {path.stem}: no samples"]
    shares = ", ".join(f"{name} {100 * n / total:.0f}%" for name, n in innermost.most_common(9))
    lines = [f"## {path.stem}: {total} samples", f"  innermost frame by package: {shares}"]
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in inclusive.most_common(top)]
    return lines


def main(paths: list[str]) -> int:
    for name in paths:
        print("\n".join(summarise(Path(name))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
