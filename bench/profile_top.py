"""Top functions of a py-spy raw (collapsed-stack) profile: `python bench/profile_top.py FILE [-n 15]`.

`bench/run.py --profile DIR` writes one such file per workload (py-spy record
--format raw --idle on the kafkette broker). The samples are wall-clock, idle
included, so a blocking fsync on the event loop shows up; "Runner.run" as the
leaf means the loop was in uvloop's C code: waiting in epoll or doing socket
I/O. "self" answers where the time goes, "total" which call paths hold it.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

_LINE = re.compile(r"^(.*) (\d+)$")
_FRAME = re.compile(r"^(?P<fn>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")


def _short(frame: str) -> str:
    m = _FRAME.match(frame.strip())
    if not m:
        return frame.strip()
    path = m.group("file")
    for marker in ("/site-packages/", "/work/main/", "/lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{m.group('fn')} ({path})"


def load(path: Path) -> list[tuple[list[str], int]]:
    stacks = []
    for line in path.read_text(errors="replace").splitlines():
        m = _LINE.match(line)
        if m:
            frames = [_short(f) for f in m.group(1).split(";") if f and not f.startswith(("process ", "thread "))]
            stacks.append((frames, int(m.group(2))))
    return stacks


def top(stacks: list[tuple[list[str], int]], n: int) -> str:
    total = sum(c for _, c in stacks) or 1
    own: Counter = Counter()
    incl: Counter = Counter()
    for frames, count in stacks:
        if frames:
            own[frames[-1]] += count
        for fn in set(frames):
            incl[fn] += count
    lines = [f"{total} samples (wall-clock, idle included)", "", "self%   function"]
    lines += [f"{100 * c / total:5.1f}   {fn}" for fn, c in own.most_common(n)]
    lines += ["", "total%  function"]
    lines += [f"{100 * c / total:5.1f}   {fn}" for fn, c in incl.most_common(n + 10)
              if not fn.startswith(("<module>", "_run_module_as_main", "_run_code", "run (", "main (", "serve ("))][:n]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("-n", type=int, default=15)
    args = parser.parse_args(argv)
    for path in args.files:
        print(f"== {path}")
        print(top(load(path), args.n))
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
