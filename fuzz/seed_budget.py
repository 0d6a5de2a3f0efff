#!/usr/bin/env python3
"""Picks the seed corpus committed for a fuzz target: at most BUDGET files
that keep the most coverage features, chosen greedily (the file that adds
the most features not yet kept, the smaller on a tie) from the control
file of a set-cover merge. Prints the chosen files, one a line; says on
stderr how much of the features they keep.

    cd fuzz
    RUSTC_BOOTSTRAP=1 cargo fuzz run -s none TARGET /tmp/merged corpus/TARGET -- \
        -set_cover_merge=1 -use_counters=0 -merge_control_file=/tmp/control
    python3 seed_budget.py /tmp/control BUDGET > /tmp/keep
    git rm -rq corpus/TARGET && mkdir corpus/TARGET && xargs -a /tmp/keep cp -t corpus/TARGET
"""

import os
import sys


def main() -> None:
    control, budget = sys.argv[1], int(sys.argv[2])
    lines = open(control).read().split("\n")
    count = int(lines[0])
    files = lines[2 : 2 + count]
    features = {}
    for line in lines[2 + count :]:
        if line.startswith("FT "):
            fields = line.split()
            features[int(fields[1])] = set(map(int, fields[2:]))
    every = set().union(*features.values())
    kept, chosen = set(), []
    while features and len(chosen) < budget:
        best = max(
            features,
            key=lambda i: (len(features[i] - kept), -os.path.getsize(files[i])),
        )
        if not features[best] - kept:
            break
        kept |= features.pop(best)
        chosen.append(best)
    share = 100 * len(kept) / max(len(every), 1)
    print(f"{len(chosen)} files keep {len(kept)} of {len(every)} features ({share:.1f}%)", file=sys.stderr)
    for i in chosen:
        print(files[i])


if __name__ == "__main__":
    main()
