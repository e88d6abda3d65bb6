#!/usr/bin/env python3
"""Earshot's benchmark harness (`make bench`). Python 3 standard library only.

    python3 bench/run.py [--events N] [--rounds R] [--out FILE] [--only ROW[,ROW]] [--list]

Generates Rasa events once (bench/gen_events.py, cached under bench-data/), then for each
row of ROWS below: runs every command once and checks its output (so a broken command
cannot win), then runs the commands interleaved A B C A B C ... for R rounds, measuring
wall time (time.perf_counter) and CPU time and peak RSS of the child (os.wait4). Writes a
Markdown report (default BENCHMARKS.md) and a short summary on stdout.

A row is plain data; see bench/README.md for how to add one.
"""

import argparse
import datetime
import hashlib
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
LOAD_AT_START = os.getloadavg()[0]
NOTES_MARKER = "<!-- notes: kept by bench/run.py -->"
DEFAULT_NOTES = """
(Profiling findings, explanations of the figures, ideas. bench/run.py keeps everything
below the marker line above when it rewrites this file.)
"""


class CheckFailed(Exception):
    pass


# --- output checks -------------------------------------------------------------------------
# A check gets `out` (label -> path of that command's stdout from the check run) and `ctx`
# (paths, event count, the generator's per-type counts, helpers). It returns a list of
# strings saying what it verified, and raises CheckFailed when something is wrong.

def count_lines(path):
    n = 0
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                return n
            n += b.count(b"\n")


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                return h.hexdigest()
            h.update(b)


def expect(cond, msg):
    if not cond:
        raise CheckFailed(msg)


def check_bot_filter(out, ctx):
    want = ctx["counts"].get("bot", 0)
    expect(want > 0, "the data has no bot events")
    # earshot's jsonl output must be the bot lines of the file, byte for byte, in order
    h = hashlib.sha256()
    with open(ctx["jsonl"], "rb") as f:
        for line in f:
            if b'"event": "bot"' in line:
                h.update(line)
    n = count_lines(out["earshot"])
    expect(n == want, f"earshot printed {n} lines, the data has {want} bot events")
    expect(sha256_file(out["earshot"]) == h.hexdigest(),
           "earshot's output is not the file's bot lines byte for byte")
    # jq re-serialises, so compare counts and parse what it printed
    jq_n = bad = 0
    with open(out["jq"], "rb") as f:
        for line in f:
            jq_n += 1
            bad += json.loads(line).get("event") != "bot"
    expect(jq_n == want, f"jq printed {jq_n} lines, the data has {want} bot events")
    expect(bad == 0, f"jq printed {bad} events that are not bot events")
    with open(out["grep -c"], "rb") as f:
        g = f.read().strip()
    expect(g == str(want).encode(), f"grep -c said {g!r}, the data has {want} bot events")
    return [f"earshot, jq and grep -c all find {want} bot events",
            "earshot's output is byte-identical to the file's bot lines"]


def check_sqlite_backfill(out, ctx):
    n = ctx["events"]
    file_hash = sha256_file(ctx["jsonl"])
    for label in ("earshot", "sqlite3"):
        got = count_lines(out[label])
        expect(got == n, f"{label} printed {got} lines, the table has {n} rows")
        expect(sha256_file(out[label]) == file_hash,
               f"{label}'s output differs from the rows' data (compared with the JSON-lines file)")
    return [f"earshot and sqlite3 both print all {n} rows, byte-identical to each other and to the JSON-lines file"]


def check_line_format(out, ctx):
    n = ctx["events"]
    got = count_lines(out["earshot"])
    expect(got == n, f"earshot printed {got} lines for {n} events")
    texts = escapes = non_ascii = 0
    with open(out["earshot"], encoding="utf-8") as f:
        for line in f:
            parts = line.split(None, 4)
            if len(parts) >= 4 and parts[3] in ("user", "bot"):
                texts += 1
                escapes += "\\u" in line
                non_ascii += any(ord(c) > 127 for c in line)
    expect(texts == ctx["counts"].get("user", 0) + ctx["counts"].get("bot", 0),
           f"{texts} user/bot lines, expected {ctx['counts'].get('user', 0) + ctx['counts'].get('bot', 0)}")
    expect(escapes == 0, f"{escapes} user/bot lines still show \\u escapes")
    expect(non_ascii > 0, "no user/bot line shows decoded non-ASCII text")
    return [f"one line per event ({n}); user/bot text decoded ({non_ascii} lines with non-ASCII, no \\u escapes)"]


# --- the rows --------------------------------------------------------------------------------
# Placeholders in commands: {earshot} (the binary), {jsonl} (the events file), {db} (the
# SQLite database), {events} (N). A command is (label, argv list or shell string[, options]);
# options: {"stdout": "file"} sends stdout to a file instead of /dev/null during the timed
# runs (needed for grep: GNU grep notices /dev/null and stops at the first match).
# target rules: ("faster", A, B, k): A's median at least k times smaller than B's;
#               ("within", A, B, k): A's median at most k times B's;
#               ("rate", A, r):      A reads at least r events per second (N / median).

ROWS = [
    {
        "name": "decode-filter-jsonl",
        "description": "Read a Rasa file-broker log from the start, keep the bot events, print them "
                       "as JSON lines. grep is the I/O floor (it only counts matching lines; it does "
                       "not decode or print them).",
        "commands": [
            ("earshot", ["{earshot}", "tail", "{jsonl}", "--from-beginning", "--exit-at-end",
                         "--type", "bot", "--format", "jsonl", "-q"]),
            ("jq", ["jq", "-c", 'select(.event=="bot")', "{jsonl}"]),
            ("grep -c", ["grep", "-c", '"event": "bot"', "{jsonl}"], {"stdout": "file"}),
        ],
        "baseline": "jq",
        "target": {"text": "earshot >= 10x faster than jq and >= 1M events/s",
                   "rules": [("faster", "earshot", "jq", 10.0), ("rate", "earshot", 1_000_000)]},
        "check": check_bot_filter,
    },
    {
        "name": "sqlite-backfill",
        "description": "Read every row of an SQL-broker events table (SQLite) and print the raw "
                       "messages as JSON lines, against the sqlite3 shell printing the data column.",
        "commands": [
            ("earshot", ["{earshot}", "tail", "sqlite://{db}", "--from-beginning", "--exit-at-end",
                         "--format", "jsonl", "-q"]),
            ("sqlite3", ["sqlite3", "{db}", "select data from events"]),
        ],
        "baseline": "sqlite3",
        "target": {"text": "earshot within 1.5x of sqlite3's time",
                   "rules": [("within", "earshot", "sqlite3", 1.5)]},
        "check": check_sqlite_backfill,
    },
    {
        "name": "decode-line-format",
        "description": "Decode every event of the file and print the default one-line summary "
                       "(time, sender, type, text/intent/action). Informative: no target.",
        "commands": [
            ("earshot", ["{earshot}", "tail", "{jsonl}", "-e", "-q"]),
        ],
        "baseline": None,
        "target": None,
        "check": check_line_format,
    },
]


# --- running ---------------------------------------------------------------------------------

def substitute(s, values):
    for k, v in values.items():
        s = s.replace("{" + k + "}", v)
    return s


def resolve(cmd, values):
    label, spec = cmd[0], cmd[1]
    opts = cmd[2] if len(cmd) > 2 else {}
    if isinstance(spec, str):
        shown = substitute(spec, values)
        argv = ["/bin/sh", "-c", shown]
    else:
        argv = [substitute(a, values) for a in spec]
        shown = shlex.join(argv)
    return {"label": label, "argv": argv, "shown": shown, "stdout": opts.get("stdout", "null")}


# The measured command is started by a small helper interpreter, not by this process: Linux
# carries the resident size of the process that calls exec over into the new program's max
# RSS, so spawning from the harness (tens of MB after the checks) would hide small figures.
# The helper's own size (about 8 MB) remains as a floor; run.py measures it with /bin/true
# and the report states it.
HELPER = """
import os, sys, time
res, argv = sys.argv[1], sys.argv[2:]
t0 = time.perf_counter()
pid = os.posix_spawn(argv[0], argv, os.environ)
_, st, ru = os.wait4(pid, 0)
t1 = time.perf_counter()
with open(res, "w") as f:
    f.write(f"{t1 - t0!r} {ru.ru_utime + ru.ru_stime!r} {ru.ru_maxrss} {os.waitstatus_to_exitcode(st)}")
"""


def run_once(c, stdout_path, stderr_path):
    """Runs command c; returns (wall seconds, CPU seconds, max RSS in bytes, exit status)."""
    exe = shutil.which(c["argv"][0])
    if exe is None:
        raise SystemExit(f"bench: '{c['argv'][0]}' not found (make test-deps installs jq, sqlite3)")
    res = stderr_path + ".rusage"
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, stdout_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644),
        (os.POSIX_SPAWN_OPEN, 2, stderr_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644),
    ]
    helper = [sys.executable, "-S", "-I", "-c", HELPER, res, exe] + c["argv"][1:]
    pid = os.posix_spawn(sys.executable, helper, os.environ, file_actions=actions)
    _, status, _ = os.wait4(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise CheckFailed(f"the measuring helper failed for {c['label']}: {tail_of(stderr_path)}")
    with open(res) as f:
        wall, cpu, rss, code = f.read().split()
    os.remove(res)
    return float(wall), float(cpu), int(rss) * 1024, int(code)


def rss_floor(tmp):
    """The max RSS the helper reports for /bin/true: no command can show less."""
    c = {"label": "true", "argv": [shutil.which("true") or "/bin/true"]}
    return max(run_once(c, os.devnull, os.path.join(tmp, "stderr"))[2] for _ in range(3))


def tail_of(path, n=600):
    try:
        with open(path, "rb") as f:
            return f.read()[-n:].decode("utf-8", "replace").strip()
    except OSError:
        return ""


def run_row(row, values, ctx, rounds, tmp, log):
    cmds = [resolve(c, values) for c in row["commands"]]
    err = os.path.join(tmp, "stderr")
    # check run: outputs kept, also warms the page cache
    outs = {}
    for i, c in enumerate(cmds):
        path = os.path.join(tmp, f"check-{i}.out")
        wall, _, _, code = run_once(c, path, err)
        if code != 0:
            raise CheckFailed(f"{c['label']} exited with {code}: {tail_of(err)}")
        outs[c["label"]] = path
        log(f"  check run {c['label']}: {wall:.2f}s")
    verified = row["check"](outs, ctx) if row.get("check") else ["(no check defined)"]
    for path in outs.values():
        os.remove(path)
    for v in verified:
        log(f"  checked: {v}")
    # timed runs, interleaved
    samples = {c["label"]: [] for c in cmds}
    for r in range(rounds):
        line = []
        for i, c in enumerate(cmds):
            sink = os.devnull if c["stdout"] == "null" else os.path.join(tmp, f"timed-{i}.out")
            wall, cpu, rss, code = run_once(c, sink, err)
            if code != 0:
                raise CheckFailed(f"{c['label']} exited with {code} in round {r + 1}: {tail_of(err)}")
            samples[c["label"]].append((wall, cpu, rss))
            line.append(f"{c['label']} {wall:.2f}s")
        log(f"  round {r + 1}/{rounds}: " + ", ".join(line))
    results = []
    for c in cmds:
        s = samples[c["label"]]
        walls = [w for w, _, _ in s]
        med = statistics.median(walls)
        results.append({
            "label": c["label"], "shown": c["shown"], "walls": walls, "median": med,
            "min": min(walls), "max": max(walls), "cpu": statistics.median([x for _, x, _ in s]),
            "rss": max(x for _, _, x in s), "rate": ctx["events"] / med if med > 0 else float("inf"),
        })
    return results, verified


def evaluate(row, res, n):
    """[(met: bool, text)] for the row's target rules."""
    by = {r["label"]: r for r in res}
    out = []
    for rule in (row.get("target") or {}).get("rules", []):
        kind = rule[0]
        if kind == "faster":
            _, a, b, k = rule
            x = by[b]["median"] / by[a]["median"]
            rel = f"{x:.1f}x faster than" if x >= 1 else f"{1 / x:.1f}x slower than"
            out.append((x >= k, f"{a} is {rel} {b} (target >= {k:g}x faster)"))
        elif kind == "within":
            _, a, b, k = rule
            x = by[a]["median"] / by[b]["median"]
            out.append((x <= k, f"{a} takes {x:.2f}x {b}'s time (target <= {k:g}x)"))
        elif kind == "rate":
            _, a, r = rule
            x = by[a]["rate"]
            out.append((x >= r, f"{a} reads {fmt_rate(x)} events/s (target >= {fmt_rate(r)})"))
        else:
            raise SystemExit(f"bench: row {row['name']}: unknown target rule {kind!r}")
    return out


# --- report ----------------------------------------------------------------------------------

def fmt_rate(x):
    if x >= 1e6:
        return f"{x / 1e6:.2f}M"
    if x >= 1e3:
        return f"{x / 1e3:.0f}k"
    return f"{x:.0f}"


def fmt_rss(rss, floor):
    mb = rss / 1e6
    return f"<= {floor / 1e6:.1f}" if rss <= floor * 1.05 else f"{mb:.1f}"


def fmt_ratio(med, base):
    if base is None:
        return "-"
    x = base / med
    if abs(x - 1) < 0.005:
        return "1.00x"
    return f"{x:.2f}x faster" if x > 1 else f"{1 / x:.2f}x slower"


def cmd_out(argv):
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        return (p.stdout or p.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "not found"


def machine_info(earshot):
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "unknown"
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                    break
    except OSError:
        pass
    rev = cmd_out(["git", "-C", REPO, "rev-parse", "--short", "HEAD"])
    dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    st = os.stat(earshot)
    digest = sha256_file(earshot)[:12]
    return [
        ("CPU", f"{cpu}, {cmd_out(['nproc'])} cores (nproc)"),
        ("Memory", mem),
        ("Kernel", f"{platform.system()} {platform.release()} ({platform.machine()})"),
        ("Swift", cmd_out(["swift", "--version"])),
        ("earshot", f"`{os.path.relpath(earshot, REPO)}`, {st.st_size / 1e6:.1f} MB, built "
                    f"{datetime.datetime.fromtimestamp(st.st_mtime).strftime('%Y-%m-%d %H:%M')}, "
                    f"sha256 {digest}, source at {rev}{' with uncommitted changes' if dirty else ''}"),
        ("jq", cmd_out(["jq", "--version"])),
        ("sqlite3", " ".join(cmd_out(["sqlite3", "--version"]).split()[:3])),
        ("grep", cmd_out(["grep", "--version"])),
        ("Python", platform.python_version()),
        ("Locale", os.environ.get("LC_ALL") or os.environ.get("LANG") or "POSIX (unset)"),
        ("Load average", "at start {:.2f}, at end {:.2f} (1 min; anything well above 0 means other "
                         "work shared the CPUs)".format(LOAD_AT_START, os.getloadavg()[0])),
    ]


def row_section(row, res, verified, evals, n, rounds, when, floor):
    base = None
    if row.get("baseline"):
        base = next(r["median"] for r in res if r["label"] == row["baseline"])
    L = [f"## {row['name']}", "", row["description"], ""]
    if evals:
        ok = all(m for m, _ in evals)
        L.append(f"**Target:** {row['target']['text']}. **Result: {'MET' if ok else 'MISSED'}.** "
                 + "; ".join(f"{t}: {'MET' if m else '**MISSED**'}" for m, t in evals) + ".")
    else:
        L.append("**Target:** none (informative).")
    L += ["", f"Measured {when}: {n:,} events, {rounds} round{'s' if rounds != 1 else ''}, commands interleaved. Checked first: "
          + "; ".join(verified) + ".", "", "```"]
    L += [f"{r['label']}: {r['shown']}" for r in res]
    L += ["```", ""]
    vs = f"vs {row['baseline']}" if row.get("baseline") else "ratio"
    L.append(f"| command | median s | min s | max s | events/s | CPU s | max RSS MB | {vs} |")
    L.append("|---|---:|---:|---:|---:|---:|---:|---|")
    for r in res:
        L.append(f"| {r['label']} | {r['median']:.3f} | {r['min']:.3f} | {r['max']:.3f} | "
                 f"{fmt_rate(r['rate'])} | {r['cpu']:.3f} | {fmt_rss(r['rss'], floor)} | "
                 f"{'baseline' if r['label'] == row.get('baseline') else fmt_ratio(r['median'], base)} |")
    L += ["", "Each run, in seconds: " + "; ".join(
        f"{r['label']} " + " ".join(f"{w:.3f}" for w in r["walls"]) for r in res), ""]
    return "\n".join(L)


def summary_cells(row, res, evals):
    main = res[0]
    status = ("MET" if all(m for m, _ in evals) else "**MISSED**") if evals else "informative"
    figures = f"{main['label']} {main['median']:.3f}s, {fmt_rate(main['rate'])} events/s"
    if row.get("baseline") and row["baseline"] != main["label"]:
        b = next(r for r in res if r["label"] == row["baseline"])
        figures += f"; {row['baseline']} {b['median']:.3f}s ({fmt_ratio(main['median'], b['median'])})"
    return f"| {row['name']} | {row['target']['text'] if row.get('target') else '-'} | {status} | {figures} |"


def read_previous(path):
    """(kept notes text or None, {row name: (section text, summary line)}) from an earlier report."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError:
        return None, {}
    notes = None
    if NOTES_MARKER in text:
        notes = text.split(NOTES_MARKER, 1)[1]
    rows = {}
    for m in re.finditer(r"<!-- row (\S+) begin -->\n(.*?)<!-- summary: (.*?) -->\n(.*?)<!-- row \1 end -->",
                         text, re.S):
        rows[m.group(1)] = (m.group(2) + m.group(4), m.group(3))
    return notes, rows


def write_report(path, sections, machine, data_lines, args, only, floor):
    notes, _ = read_previous(path)
    now = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    L = ["# Earshot benchmarks", "",
         f"Written by `bench/run.py` on {now}. Reproduce with `make bench` (builds release, installs "
         "jq/sqlite3, runs `python3 bench/run.py --out BENCHMARKS.md`); a quick run: `make bench-smoke`.",
         ""]
    load = max(LOAD_AT_START, os.getloadavg()[0])
    if load > 0.5:
        L += [f"**Caution:** the load average reached {load:.1f} during this run (see Machine), so other "
              "work shared the CPUs and the figures are noisier and slower than on an idle machine.", ""]
    if args.events < 100_000:
        L += [f"**Small data** ({args.events:,} events): start-up time dominates, so the figures and "
              "MET/MISSED say little; the targets are meant for the default 1,000,000 events.", ""]
    if only:
        L += [f"This run measured only: {', '.join(only)}. Other rows are carried over from an earlier "
              "run (each says when it was measured).", ""]
    L += ["## Machine", ""] + [f"- {k}: {v}" for k, v in machine] + [""]
    L += ["## Data", ""] + data_lines + [""]
    L += ["## Method", "",
          "Every command runs once first and its output is checked (see each row), which also warms "
          "the page cache. Then the commands of a row run interleaved (A B A B ...) for the given "
          "number of rounds, stdin from /dev/null, stdout to /dev/null (grep's to a file: GNU grep "
          "stops at the first match when its output is /dev/null). Wall time is `time.perf_counter` "
          "around spawn and `os.wait4` of the command; CPU time (user + system) and max RSS come from "
          "the command's rusage. The command is started by a small Python helper, because Linux "
          "carries the resident size of the process that execs into the new program's max RSS; the "
          f"helper's size remains as a floor ({floor / 1e6:.1f} MB, measured with /bin/true), so "
          f"'<= {floor / 1e6:.1f}' means the command needed no more than that. events/s = events in "
          "the data / median wall time, for every command alike, whatever it prints.", ""]
    L += ["## Summary", "", "| row | target | result | median figures |", "|---|---|---|---|"]
    L += [s[2] for s in sections] + [""]
    for name, body, summary in sections:
        L += [f"<!-- row {name} begin -->", body.rstrip("\n"), f"<!-- summary: {summary} -->",
              f"<!-- row {name} end -->", ""]
    L += ["## Notes", "", NOTES_MARKER]
    text = "\n".join(L) + (notes if notes is not None else DEFAULT_NOTES)
    if not text.endswith("\n"):
        text += "\n"
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


# --- data ------------------------------------------------------------------------------------

def ensure_data(n, seed, data_dir, regen, log):
    os.makedirs(data_dir, exist_ok=True)
    gen = os.path.join(HERE, "gen_events.py")
    with open(gen, "rb") as f:
        gh = hashlib.sha256(f.read()).hexdigest()[:8]
    prefix = f"events-{n}-s{seed}-"
    stem = os.path.join(data_dir, prefix + gh)
    jsonl, db, stats = stem + ".jsonl", stem + ".db", stem + ".jsonl.stats.json"
    for name in os.listdir(data_dir):  # older versions of the same data set
        if name.startswith(prefix) and not name.startswith(prefix + gh + "."):
            os.remove(os.path.join(data_dir, name))
    if regen or not all(os.path.exists(p) for p in (jsonl, db, stats)):
        log(f"generating {n:,} events (seed {seed}) into {os.path.relpath(data_dir, REPO)}/ ...")
        subprocess.run([sys.executable, gen, str(n), jsonl, "--sqlite", db, "--seed", str(seed)], check=True)
    else:
        log(f"using cached data {os.path.relpath(jsonl, REPO)}")
    with open(stats) as f:
        st = json.load(f)
    return jsonl, db, st


def main(argv=None):
    ap = argparse.ArgumentParser(description="Earshot benchmark harness (see bench/README.md)")
    ap.add_argument("--events", type=int, default=1_000_000, help="events to generate (default 1000000)")
    ap.add_argument("--rounds", type=int, default=5, help="timed runs per command (default 5)")
    ap.add_argument("--out", default=None, help="Markdown report to write (e.g. BENCHMARKS.md)")
    ap.add_argument("--only", default=None, help="comma-separated row names to run")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data-dir", default=os.path.join(REPO, "bench-data"),
                    help="where generated data is cached (default bench-data/, git-ignored)")
    ap.add_argument("--regen", action="store_true", help="generate the data even if cached")
    ap.add_argument("--earshot", default=os.environ.get("EARSHOT_BIN", os.path.join(REPO, ".build/release/earshot")),
                    help="the binary to measure (default $EARSHOT_BIN or .build/release/earshot)")
    ap.add_argument("--data-only", action="store_true", help="generate (or find) the data and exit")
    ap.add_argument("--list", action="store_true", help="list the rows and exit")
    args = ap.parse_args(argv)

    if args.list:
        for row in ROWS:
            print(f"{row['name']}: {row['description']}")
        return 0
    names = [r["name"] for r in ROWS]
    only = [s.strip() for s in args.only.split(",") if s.strip()] if args.only else None
    for o in only or []:
        if o not in names:
            ap.error(f"no row '{o}' (rows: {', '.join(names)})")
    rows = [r for r in ROWS if only is None or r["name"] in only]
    earshot = os.path.abspath(args.earshot)
    if not os.access(earshot, os.X_OK):
        ap.error(f"{earshot} is not an executable; build it with `swift build -c release` (or set EARSHOT_BIN)")
    if args.events < 1 or args.rounds < 1:
        ap.error("--events and --rounds must be at least 1")

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    os.chdir(REPO)  # commands are shown and run with paths relative to the repository
    jsonl, db, stats = ensure_data(args.events, args.seed, os.path.abspath(args.data_dir), args.regen, log)
    if args.data_only:
        print(jsonl)
        print(db)
        return 0
    rel = lambda p: os.path.relpath(p, REPO) if os.path.abspath(p).startswith(REPO + os.sep) else p
    # {db} stays absolute: sqlite:// URLs take an absolute path (sqlite:///abs/path/events.db)
    values = {"earshot": rel(earshot), "jsonl": rel(jsonl), "db": db, "events": str(args.events)}
    ctx = {"events": args.events, "counts": stats["counts"], "jsonl": jsonl, "db": db, "stats": stats}
    when = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")

    sections, failures, summary = [], [], []
    with tempfile.TemporaryDirectory(prefix="earshot-bench-") as tmp:
        floor = rss_floor(tmp)
        for row in rows:
            log(f"{row['name']}:")
            try:
                res, verified = run_row(row, values, ctx, args.rounds, tmp, log)
            except CheckFailed as e:
                log(f"  CHECK FAILED: {e}")
                failures.append(row["name"])
                body = (f"## {row['name']}\n\n{row['description']}\n\n**CHECK FAILED** ({when}, "
                        f"{args.events:,} events): {e}\n")
                summary_line = f"| {row['name']} | {row['target']['text'] if row.get('target') else '-'} | CHECK FAILED | - |"
                sections.append((row["name"], body, summary_line))
                summary.append(f"{row['name']}: CHECK FAILED: {e}")
                continue
            evals = evaluate(row, res, args.events)
            sections.append((row["name"], row_section(row, res, verified, evals, args.events, args.rounds, when, floor),
                             summary_cells(row, res, evals)))
            base = next((r["median"] for r in res if r["label"] == row.get("baseline")), None)
            parts = [f"{r['label']} {r['median']:.3f}s ({fmt_rate(r['rate'])} ev/s, {fmt_rss(r['rss'], floor)} MB"
                     + (f", {fmt_ratio(r['median'], base)}" if base and r["label"] != row["baseline"] else "") + ")"
                     for r in res]
            status = ""
            if evals:
                status = " -> " + ("MET" if all(m for m, _ in evals) else "MISSED") + ": " + "; ".join(t for _, t in evals)
            summary.append(f"{row['name']}: " + ", ".join(parts) + status)

    if args.out:
        if only:  # keep the other rows' sections from the previous report
            _, prev = read_previous(args.out)
            run = {s[0]: s for s in sections}
            sections = [run[r["name"]] if r["name"] in run else (r["name"], prev[r["name"]][0], prev[r["name"]][1])
                        for r in ROWS if r["name"] in run or r["name"] in prev]
        data_lines = [
            f"- {args.events:,} events from `python3 bench/gen_events.py {args.events} OUT.jsonl --sqlite OUT.db "
            f"--seed {args.seed}`: {stats['bytes'] / 1e6:.1f} MB of JSON lines, average line "
            f"{stats['average_line_bytes']:.0f} bytes, {stats['senders']:,} senders interleaved; "
            f"SQLite database {os.path.getsize(db) / 1e6:.1f} MB.",
            "- Events by type: " + ", ".join(f"{k} {v:,}" for k, v in
                                               sorted(stats["counts"].items(), key=lambda kv: -kv[1])) + ".",
        ]
        write_report(args.out, sections, machine_info(earshot), data_lines, args, only, floor)
        log(f"wrote {args.out}")

    print(f"earshot bench: {args.events:,} events, {args.rounds} round{'s' if args.rounds != 1 else ''} (median wall time)")
    for s in summary:
        print("  " + s)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
