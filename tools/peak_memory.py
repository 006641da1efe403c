"""Wall time and peak memory of a command and every process it starts (the figures for `make study`'s targets).

Runs COMMAND, samples every `--every` seconds the resident memory (RSS) of it and all its descendants (psutil), and
prints the wall time, the peak of their summed RSS with the processes that made it, and the largest single process.
The sum counts pages shared between processes (a forked worker's untouched copy) more than once, so it is an upper
bound of what the machine needed; page cache is not counted. A sample misses peaks shorter than `--every`.

Usage: python tools/peak_memory.py [--every 0.5] [--log FILE] -- COMMAND ...
       e.g. .venv/bin/python tools/peak_memory.py --log peak.tsv -- make study
"""

import argparse
import os
import subprocess
import sys
import time
import psutil


def tree_rss(root: psutil.Process) -> dict[int, tuple[str, int]]:
    "pid -> (name, RSS bytes) of `root` and its descendants, now (processes that ended meanwhile are skipped)."
    out = {}
    try:
        procs = [root] + root.children(recursive=True)
    except psutil.Error:
        return out
    for p in procs:
        try:
            out[p.pid] = (p.name(), p.memory_info().rss)
        except psutil.Error:
            pass
    return out


def main(cmd: list[str], every: float = 0.5, log=None) -> int:
    t0 = time.perf_counter()
    child = subprocess.Popen(cmd)
    root = psutil.Process(child.pid)
    peak, peak_at, peak_procs, single = 0, 0.0, {}, (0, '')
    with open(log or os.devnull, 'w') as f:
        f.write('seconds\tprocesses\trss_mib\n')
        while child.poll() is None:
            rss = tree_rss(root)
            total = sum(r for _, r in rss.values())
            t = time.perf_counter() - t0
            if total > peak:
                peak, peak_at, peak_procs = total, t, rss
            for name, r in rss.values():
                if r > single[0]:
                    single = (r, name)
            f.write(f"{t:.1f}\t{len(rss)}\t{total / 2**20:.0f}\n")
            f.flush()
            time.sleep(every)
    wall = time.perf_counter() - t0
    top = sorted(peak_procs.values(), key=lambda x: -x[1])[:5]
    print(
        f"peak_memory: {' '.join(cmd)}: exit status {child.returncode}, wall {wall / 60:.1f} min ({wall:.0f} s); "
        f"peak summed RSS {peak / 2**30:.2f} GiB at {peak_at / 60:.1f} min over {len(peak_procs)} processes "
        f"(largest: {', '.join(f'{n} {r / 2**30:.2f}' for n, r in top)} GiB); largest single process "
        f"{single[0] / 2**30:.2f} GiB ({single[1]})",
        file=sys.stderr,
    )
    return child.returncode


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--every', type=float, default=0.5, help='seconds between samples')
    ap.add_argument('--log', default=None, help='write every sample (seconds, processes, summed RSS MiB) to this TSV')
    ap.add_argument('command', nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.command[1:] if a.command[:1] == ['--'] else a.command
    if not cmd:
        ap.error('give the command to run after --')
    raise SystemExit(main(cmd, a.every, a.log))
