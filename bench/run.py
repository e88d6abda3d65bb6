#!/usr/bin/env python3
"""Earshot's benchmark harness (`make bench`). Python 3 standard library only.

    python3 bench/run.py [--events N] [--rounds R] [--out FILE] [--only ROW[,ROW]] [--list]

Generates Rasa events once (bench/gen_events.py, cached under bench-data/), then for each
row of ROWS below: runs every command once and checks its output (so a broken command
cannot win), then runs the commands interleaved A B C A B C ... for R rounds, measuring
wall time (time.perf_counter) and CPU time and peak RSS of the child (os.wait4). Writes a
Markdown report (default BENCHMARKS.md) and a short summary on stdout. The tui-* rows run
their own procedure instead (`earshot watch` in tmux, figures from its --stats lines and
/proc): [--flood-seconds S] [--flood-rate R] [--memory-rounds K] [--startup-runs K].

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
import signal
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
    for label in ("earshot", "earshot, one core"):
        n = count_lines(out[label])
        expect(n == want, f"{label} printed {n} lines, the data has {want} bot events")
        expect(sha256_file(out[label]) == h.hexdigest(),
               f"{label}'s output is not the file's bot lines byte for byte")
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
    return [f"earshot (both runs), jq and grep -c all find {want} bot events",
            "earshot's output (both runs) is byte-identical to the file's bot lines"]


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


def check_line_format_sqlite(out, ctx):
    n = ctx["events"]
    got = count_lines(out["earshot"])
    expect(got == n, f"earshot printed {got} lines for {n} rows")
    rows = count_lines(out["sqlite3"])
    expect(rows == n, f"sqlite3 printed {rows} rows for {n}")
    return [f"earshot prints one summary line per row ({n}); sqlite3 prints all {n} rows"]


# --- TUI rows: the monitor in tmux -----------------------------------------------------------
# A row with a "measure" function instead of "commands" runs its own procedure: these drive
# `earshot watch` in a 120x36 tmux window on a private socket (a fresh server for every run,
# always killed afterwards) and read the figures the monitor appends with `--stats FILE`
# (`{"first_frame_ms": X}`, then one line a second: t, events, held, frames, lag_ms_max, keys,
# key_ms_max, frame_ms_max) and the process's /proc files. measure(ctx, log) returns a dict:
#   verified: [what was checked]   commands: [(label, shown command)]   evals: [(met, text)]
#   measured: what/how much was measured (after "Measured WHEN: ")   lines: Markdown body
#   figures: the Summary table's cell   stdout: the one-line summary printed at the end
# and raises CheckFailed when the monitor misbehaves (no first frame, events lost, ...).

TUI_COLS, TUI_ROWS = 120, 36
_tmux_count = 0


def tmux_env():
    env = dict(os.environ)
    env.pop("TMUX", None)  # the harness may itself run inside tmux
    loc = (env.get("LC_ALL") or env.get("LC_CTYPE") or env.get("LANG") or "").upper().replace("-", "")
    if "UTF8" not in loc:  # the screen is read as UTF-8 (box drawing): tmux and the monitor agree
        env["LC_ALL"] = "C.UTF-8"
    return env


def proc_comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return None


def proc_cpu_seconds(pid):
    """utime + stime of the whole process (all threads), from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        s = f.read()
    fields = s[s.rindex(")") + 2:].split()  # fields[0] is field 3 (state); utime, stime: 14, 15
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_status(pid):
    """{"VmRSS": bytes, "VmHWM": bytes, ...} from /proc/PID/status."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if v.strip().endswith(" kB"):
                out[k] = int(v.split()[0]) * 1024
    return out


class Tmux:
    """One tmux server on a private socket (earshot-bench-<pid>-<n>) with one 120x36 window
    running `command` (give it `exec`, so that the pane's process is the monitor itself)."""

    def __init__(self):
        global _tmux_count
        _tmux_count += 1
        self.socket = f"earshot-bench-{os.getpid()}-{_tmux_count}"
        self.env = tmux_env()
        self.server_pid = self.pane_pid = self.socket_path = None

    def base(self):
        return ["tmux", "-u", "-L", self.socket]

    def run(self, args, timeout=10):
        return subprocess.run(self.base() + args, stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, env=self.env, timeout=timeout)

    def start(self, command):
        # stdout/stderr of the client to /dev/null: the server it forks must not hold a pipe open
        rc = subprocess.run(self.base() + ["-f", "/dev/null", "new-session", "-d", "-x", str(TUI_COLS),
                                           "-y", str(TUI_ROWS), "-c", REPO, command],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=self.env, timeout=10).returncode
        if rc != 0:
            raise CheckFailed(f"tmux new-session failed with status {rc}")

    def info(self):
        if self.server_pid is None:
            p = self.run(["display-message", "-p", "#{pid} #{pane_pid} #{socket_path}"])
            parts = p.stdout.strip().split(" ", 2)
            if p.returncode == 0 and len(parts) == 3:
                self.server_pid, self.pane_pid, self.socket_path = int(parts[0]), int(parts[1]), parts[2]
                self.server_comm = proc_comm(self.server_pid)
        return self.server_pid, self.pane_pid

    def monitor_pid(self, timeout=5.0):
        """The pane's process once it has exec'd earshot."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            _, pane = self.info()
            if pane is not None and proc_comm(pane) == "earshot":
                return pane
            time.sleep(0.01)
        raise CheckFailed("the tmux pane never ran earshot" + self.screen_note())

    def keys(self, *names):
        self.run(["send-keys"] + list(names))

    def capture(self):
        p = self.run(["capture-pane", "-p"])
        return p.stdout if p.returncode == 0 else ""

    def screen_note(self):
        s = self.capture().rstrip()
        return f"; the screen showed:\n\n```\n{s}\n```\n" if s else ""

    def kill(self):
        """Ends the server and the monitor, and makes sure both are gone (by their pids)."""
        try:
            self.info()
        except (OSError, subprocess.SubprocessError):
            pass
        try:
            self.run(["kill-server"], timeout=5)
        except (OSError, subprocess.SubprocessError):
            pass
        procs = [(self.server_pid, getattr(self, "server_comm", None)), (self.pane_pid, "earshot")]
        deadline = time.monotonic() + 3
        for pid, comm in procs:
            if pid is None:
                continue
            while proc_comm(pid) == comm and time.monotonic() < deadline:
                time.sleep(0.02)
            if comm is not None and proc_comm(pid) == comm:
                try:
                    os.kill(pid, 9)
                except OSError:
                    pass
        # tmux leaves its socket file behind (also when the server ended on its own)
        default = os.path.join(os.environ.get("TMUX_TMPDIR") or "/tmp", f"tmux-{os.getuid()}", self.socket)
        for path in {self.socket_path or default, default}:
            try:
                os.unlink(path)
            except OSError:
                pass


def read_stats(path):
    """(first_frame_ms or None, [per-second dicts]) from a --stats file; complete lines only."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None, []
    first, secs = None, []
    for raw in data.split(b"\n")[:-1]:
        try:
            d = json.loads(raw)
        except ValueError:
            continue
        if "first_frame_ms" in d:
            first = d["first_frame_ms"]
        elif "t" in d:
            secs.append(d)
    return first, secs


def wait_for(cond, timeout, interval=0.1):
    """Polls cond() until it returns something true; that value, or None after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v or time.monotonic() >= deadline:
            return v or None
        time.sleep(interval)


def pct(values, p):
    """Nearest-rank percentile."""
    s = sorted(values)
    return s[max(0, min(len(s) - 1, -(-len(s) * p // 100) - 1))]


def ls_slope(xs, ys):
    n = len(xs)
    if n < 2:
        return 0.0
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx if sxx else 0.0


def spawn_plain(argv, stderr_path):
    """posix_spawn with stdin/stdout from/to /dev/null, stderr to a file; returns the pid."""
    actions = [(os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
               (os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0),
               (os.POSIX_SPAWN_OPEN, 2, stderr_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)]
    return os.posix_spawn(argv[0], argv, os.environ, file_actions=actions)


def watch_command(ctx, args, stderr_path):
    """The pane's shell command, as run and as shown (temporary paths as $TMP)."""
    parts = [shlex.quote(a) for a in [ctx["earshot"], "watch"] + args]
    run = "TERM=xterm-256color exec " + " ".join(parts) + " 2>" + shlex.quote(stderr_path)
    return run, re.sub(r"-\d+\.stats", "-N.stats", run.replace(ctx["tmp"], "$TMP"))


def tmux_shown(cmd_shown):
    return (f"tmux -u -L earshot-bench-<pid>-<n> -f /dev/null new-session -d -x {TUI_COLS} -y {TUI_ROWS} "
            f"-c . {shlex.quote(cmd_shown)}")


def ms(x):
    return f"{x:.1f}"


def measure_tui_flood(ctx, log):
    o, tmp = ctx["opts"], ctx["tmp"]
    secs, rate = o.flood_seconds, o.flood_rate
    n = secs * rate
    watched, stats = os.path.join(tmp, "flood.jsonl"), os.path.join(tmp, "flood.stats")
    err, werr = os.path.join(tmp, "flood.err"), os.path.join(tmp, "writer.err")
    open(watched, "w").close()
    run_cmd, shown = watch_command(ctx, [watched, "--stats", stats], err)
    writer = [ctx["earshot_abs"], "demo", "--write-only", watched, "--rate", str(rate), "--count", str(n),
              "--seed", str(o.seed)]
    writer_shown = shlex.join([ctx["earshot"]] + writer[1:]).replace(tmp, "$TMP")
    tm = Tmux()
    wpid = None
    try:
        tm.start(run_cmd)
        pid = tm.monitor_pid()
        # following from the end of the (empty) file: wait until it has drawn and ticked once
        if not wait_for(lambda: read_stats(stats)[1], 10):
            raise CheckFailed("no stats line within 10 s: " + tail_of(err) + tm.screen_note())
        first, pre = read_stats(stats)
        expect(pre[-1]["events"] == 0, f"the monitor shows {pre[-1]['events']} events before the writer started")
        log(f"  monitor up (first frame {first} ms), writing {n:,} events at {rate:,}/s")
        cpu0, srv0 = proc_cpu_seconds(pid), proc_cpu_seconds(tm.server_pid)
        u0, t0 = time.time(), time.perf_counter()
        wpid = spawn_plain(writer, werr)
        sent, next_key, wstatus, wru = 0, t0 + 0.5, None, None
        while True:
            got, st, ru = os.wait4(wpid, os.WNOHANG)
            if got:
                wpid, wstatus, wru = None, st, ru
                break
            now = time.perf_counter()
            if now >= next_key:
                tm.keys("j" if sent % 2 == 0 else "k")
                sent += 1
                next_key += 0.5
            time.sleep(max(0.0, min(0.01, next_key - time.perf_counter())))
        t1, u1 = time.perf_counter(), time.time()
        cpu1, srv1 = proc_cpu_seconds(pid), proc_cpu_seconds(tm.server_pid)
        wall = t1 - t0
        code = os.waitstatus_to_exitcode(wstatus)
        expect(code == 0, f"the writer exited with {code}: {tail_of(werr)}")
        written = count_lines(watched)
        expect(written == n, f"the writer wrote {written:,} lines, asked for {n:,}")
        log(f"  writer done in {wall:.1f}s, {sent} keys sent; waiting for the monitor to catch up")
        wait_for(lambda: (lambda s: s and s[-1]["events"] >= n)(read_stats(stats)[1]), 10, 0.1)
        time.sleep(1.1)  # one more stats line: the keys of the last frames
        _, lines = read_stats(stats)
        catch = next((l["t"] + 1 - u0 for l in lines if l["events"] >= n), float("nan"))
        final = lines[-1]["events"] if lines else 0
        screen = tm.capture()
        expect(final == n, f"the monitor ingested {final:,} of the {n:,} events written "
                           f"(10 s after the writer ended){tm.screen_note()}")
    finally:
        if wpid is not None:
            try:
                os.kill(wpid, 9)
                os.waitpid(wpid, 0)
            except OSError:
                pass
        tm.kill()
    verified = [f"the writer wrote {n:,} lines ({written:,} in the file) and the monitor's final `events` is {final:,}"]
    if "Conversations (" in screen and f"{n} events" in screen:
        verified.append(f"the screen shows the conversation list and \"{n} events\"")
    else:
        raise CheckFailed("the final screen does not show the conversation list and the event count:\n" + screen)
    # the seconds wholly inside the writer's run
    fl = [l for l in lines if l["t"] >= u0 and l["t"] + 1 <= u1]
    expect(len(fl) >= 3, f"only {len(fl)} stats lines during the flood")
    lag = [l["lag_ms_max"] for l in fl]
    xs = [l["t"] - fl[0]["t"] for l in fl]
    slope = ls_slope(xs, lag) * 60
    k = min(10, max(1, len(fl) // 3))
    first_med, last_med = statistics.median(lag[:k]), statistics.median(lag[-k:])
    after = [l for l in lines if l["t"] >= int(u0)]  # keys from the second the writer started
    answered = sum(l["keys"] for l in after)
    key = [l["key_ms_max"] for l in after if l["keys"] > 0]
    key_x = [l["t"] - after[0]["t"] for l in after if l["keys"] > 0]
    key_slope = ls_slope(key_x, key) * 60
    kk = min(10, max(1, len(key) // 3))
    frame = [l["frame_ms_max"] for l in fl]
    frame_slope = ls_slope(xs, frame) * 60
    fps = [l["frames"] for l in fl]
    frame_max = max(l["frame_ms_max"] for l in fl)
    cores, srv_cores = (cpu1 - cpu0) / wall, (srv1 - srv0) / wall
    wcpu = wru.ru_utime + wru.ru_stime
    rates = [b["events"] - a["events"] for a, b in zip(fl, fl[1:]) if b["t"] == a["t"] + 1]
    grow_ok = slope < 50 and last_med <= 2 * first_med + 50
    key_ok = bool(key) and max(key) < 50 and answered == sent
    evals = [
        (grow_ok, f"no growing lag: slope {slope:+.1f} ms/min (< 50), last-{k}-s median {ms(last_med)} ms vs "
                  f"first-{k}-s {ms(first_med)} ms (<= 2x + 50 = {ms(2 * first_med + 50)})"),
        (key_ok, (f"key answered: max {ms(max(key))} ms, p95 {ms(pct(key, 95))} ms (< 50 ms), "
                  f"{answered} of {sent} keys answered by a frame") if key else f"no key answered ({sent} sent)"),
        (cores < 1.0, f"CPU: {cores:.2f} cores ({cpu1 - cpu0:.1f} s over {wall:.1f} s) (< 1 core)"),
    ]
    L = [
        "| figure | value |",
        "|---|---|",
        f"| events written / ingested | {n:,} / {final:,}: all in the stats line written at about "
        f"+{catch:.0f} s (the writer ended at +{wall:.1f} s; one stats line a second) |",
        f"| writer | {wall:.2f} s for {n:,} events = {n / wall / 1e3:.1f}k events/s; its CPU {wcpu:.2f} s |",
        f"| earshot CPU (utime+stime, /proc/PID/stat) | {cpu1 - cpu0:.2f} s over {wall:.2f} s = **{cores:.2f} cores** |",
        f"| tmux server CPU (informative) | {srv1 - srv0:.2f} s = {srv_cores:.2f} cores |",
        f"| lag_ms_max per second: median / p95 / max | {ms(statistics.median(lag))} / {ms(pct(lag, 95))} / "
        f"{ms(max(lag))} ms over {len(lag)} s |",
        f"| lag slope (least squares) | {slope:+.1f} ms/min |",
        f"| lag median first {k} s / last {k} s | {ms(first_med)} / {ms(last_med)} ms |",
        f"| key_ms_max: max / p95 | " + (f"{ms(max(key))} / {ms(pct(key, 95))} ms over {len(key)} s with keys; "
                                         f"{sent} keys sent, {answered} answered" if key else "no key answered") + " |",
        f"| key_ms_max trend (informative) | " + (f"slope {key_slope:+.1f} ms/min; median first {kk} / last {kk} "
                                                  f"seconds with keys {ms(statistics.median(key[:kk]))} / "
                                                  f"{ms(statistics.median(key[-kk:]))} ms" if key else "-") + " |",
        f"| frames per second: median (min-max) | {statistics.median(fps):g} ({min(fps)}-{max(fps)}) |",
        f"| frame_ms_max (render + flush): median / max, trend | {statistics.median(frame):.2f} / {frame_max:.2f} ms; "
        f"slope {frame_slope:+.1f} ms/min, median first {k} s / last {k} s {statistics.median(frame[:k]):.2f} / "
        f"{statistics.median(frame[-k:]):.2f} ms |",
        f"| ingested per second: median (min-max) | " + (f"{statistics.median(rates):,.0f} ({min(rates):,}-{max(rates):,})"
                                                         if rates else "-") + " |",
        "",
        "lag_ms_max per second (ms): " + " ".join(f"{x:g}" for x in lag),
        "",
        "key_ms_max per second with keys (ms): " + " ".join(f"{x:g}" for x in key),
        "",
        "frame_ms_max per second (ms): " + " ".join(f"{x:g}" for x in frame),
        "",
    ]
    return {
        "verified": verified,
        "commands": [("monitor", tmux_shown(shown)), ("writer", writer_shown),
                     ("keys", "tmux -L earshot-bench-<pid>-<n> send-keys j   # then k, j, ... every 0.5 s while the writer runs"),
                     ("cpu", "utime+stime of the pane's process (earshot) from /proc/PID/stat at the writer's start and exit")],
        "evals": evals,
        "measured": f"{rate:,} events/s for {secs} s ({n:,} events), 1 run, $TMP a fresh temporary directory",
        "lines": L,
        "figures": f"{cores:.2f} cores; lag median {ms(statistics.median(lag))} ms, max {ms(max(lag))} ms, "
                   f"slope {slope:+.1f} ms/min; key max {ms(max(key)) if key else '-'} ms; "
                   f"{statistics.median(fps):g} frames/s; {final:,}/{n:,} events",
        "stdout": f"{cores:.2f} cores, lag median/p95/max {ms(statistics.median(lag))}/{ms(pct(lag, 95))}/{ms(max(lag))} ms, "
                  f"slope {slope:+.1f} ms/min, first/last {ms(first_med)}/{ms(last_med)} ms, key max/p95 "
                  f"{ms(max(key)) if key else '-'}/{ms(pct(key, 95)) if key else '-'} ms ({answered}/{sent}), "
                  f"{statistics.median(fps):g} frames/s, {final:,}/{n:,} events",
    }


def measure_tui_memory(ctx, log):
    o, tmp, data = ctx["opts"], ctx["tmp"], ctx["jsonl"]
    n = ctx["events"]
    want = min(n, 1_000_000)  # the store's default capacity
    size = os.path.getsize(data)
    raw = size - count_lines(data)
    limit = 1.3 * raw + 50e6
    runs = []
    shown = None
    for r in range(o.memory_rounds):
        stats, err = os.path.join(tmp, f"memory-{r}.stats"), os.path.join(tmp, "memory.err")
        run_cmd, shown = watch_command(ctx, [os.path.relpath(data, REPO) if data.startswith(REPO + os.sep) else data,
                                             "--from-beginning", "--stats", stats], err)
        tm = Tmux()
        try:
            t0 = time.perf_counter()
            tm.start(run_cmd)
            pid = tm.monitor_pid()
            held = t_screen = None
            while time.perf_counter() - t0 < 300:
                if t_screen is None and f"{n} events" in tm.capture():
                    t_screen = time.perf_counter() - t0
                _, s = read_stats(stats)
                if s and s[-1]["held"] >= want:
                    held = s[-1]
                    break
                time.sleep(0.05)
            t_held = time.perf_counter() - t0
            if not held:
                _, s = read_stats(stats)
                raise CheckFailed(f"round {r + 1}: the monitor held {s[-1]['held'] if s else 0:,} of {want:,} events "
                                  f"after 300 s: {tail_of(err)}{tm.screen_note()}")
            time.sleep(2)
            st = proc_status(pid)
            _, s = read_stats(stats)
            screen = tm.capture()
        finally:
            tm.kill()
        last = s[-1]
        expect(last["held"] == want and last["events"] == n,
               f"round {r + 1}: stats say events {last['events']:,}, held {last['held']:,}; expected {n:,} and {want:,}")
        expect("Conversations (" in screen and f"{n} events" in screen,
               f"round {r + 1}: the screen does not show the list and \"{n} events\":\n{screen}")
        runs.append({"rss": st["VmRSS"], "hwm": st["VmHWM"], "t": t_held, "screen": t_screen or t_held})
        log(f"  round {r + 1}/{o.memory_rounds}: all on screen after {runs[-1]['screen']:.2f}s, VmRSS {st['VmRSS'] / 1e6:.1f} MB, "
            f"VmHWM {st['VmHWM'] / 1e6:.1f} MB")
    rss = statistics.median(x["rss"] for x in runs)
    hwm = statistics.median(x["hwm"] for x in runs)
    ok, peak_ok = rss <= limit, hwm <= limit
    mb = lambda b: f"{b / 1e6:.1f}"
    evals = [(ok, f"RSS {mb(rss)} MB = {rss / raw:.2f}x raw {mb(raw)} MB (target <= 1.3x + 50 MB = {mb(limit)} MB); "
                  f"the peak (VmHWM) {mb(hwm)} MB {'also meets' if peak_ok else 'would not meet'} it")]
    L = ["| round | all on screen after s | VmRSS MB | VmHWM (peak) MB | RSS / raw | peak / raw |",
         "|---:|---:|---:|---:|---:|---:|"]
    for i, x in enumerate(runs):
        L.append(f"| {i + 1} | {x['screen']:.2f} | {mb(x['rss'])} | {mb(x['hwm'])} | {x['rss'] / raw:.2f}x | {x['hwm'] / raw:.2f}x |")
    L.append(f"| **median** | {statistics.median(x['screen'] for x in runs):.2f} | **{mb(rss)}** | {mb(hwm)} | "
             f"{rss / raw:.2f}x | {hwm / raw:.2f}x |")
    L += ["", f"Raw bytes = the file's {size:,} bytes minus its {size - raw:,} newlines = {raw:,} ({mb(raw)} MB); "
              f"limit 1.3 x raw + 50 MB = {mb(limit)} MB. RSS read 2 s after the stats line first showed "
              f"held = {want:,}. \"All on screen after\" (informative): from spawning tmux until `capture-pane` "
              f"(polled every 50 ms) shows \"{n} events\" in the status bar.", ""]
    return {
        "verified": [f"each round the stats show events = {n:,} and held = {want:,}, and the screen shows \"{n} events\""],
        "commands": [("monitor", tmux_shown(shown)),
                     ("memory", "VmRSS and VmHWM from /proc/PID/status of the pane's process, 2 s after held reached "
                                f"{want:,}")],
        "evals": evals,
        "measured": f"{n:,} events ({mb(size)} MB file), {o.memory_rounds} round{'s' if o.memory_rounds != 1 else ''}",
        "lines": L,
        "figures": f"RSS {mb(rss)} MB ({rss / raw:.2f}x raw {mb(raw)} MB, limit {mb(limit)}); peak {mb(hwm)} MB",
        "stdout": f"VmRSS {mb(rss)} MB, VmHWM {mb(hwm)} MB, raw {mb(raw)} MB, ratio {rss / raw:.2f}x, "
                  f"limit {mb(limit)} MB ({'peak also within' if peak_ok else 'peak over'})",
    }


def measure_tui_startup(ctx, log):
    o, tmp = ctx["opts"], ctx["tmp"]
    empty = os.path.join(tmp, "empty.jsonl")
    open(empty, "w").close()
    runs, shown = [], None
    for r in range(o.startup_runs):
        stats, err = os.path.join(tmp, f"startup-{r}.stats"), os.path.join(tmp, "startup.err")
        run_cmd, shown = watch_command(ctx, [empty, "--stats", stats], err)
        tm = Tmux()
        try:
            t0 = time.perf_counter()
            tm.start(run_cmd)
            t_client = time.perf_counter() - t0
            seen = None
            while time.perf_counter() - t0 < 10:
                if "Conversations (" in tm.capture():
                    seen = time.perf_counter() - t0
                    break
                time.sleep(0.005)
            first = wait_for(lambda: read_stats(stats)[0], 5, 0.02)
            if seen is None or first is None:
                raise CheckFailed(f"run {r + 1}: no first frame within 10 s (stats: {first}): {tail_of(err)}"
                                  f"{tm.screen_note()}")
        finally:
            tm.kill()
        runs.append({"first": first, "seen": seen * 1000, "client": t_client * 1000})
        time.sleep(0.2)
    ff = [x["first"] for x in runs]
    seen = [x["seen"] for x in runs]
    med = statistics.median(ff)
    log(f"  first_frame_ms: " + " ".join(f"{x:g}" for x in ff) + "; outside: " + " ".join(f"{x:.0f}" for x in seen))
    L = ["| measure | median ms | min ms | max ms |", "|---|---:|---:|---:|",
         f"| first_frame_ms (earshot: process start to first frame flushed) | **{ms(med)}** | {ms(min(ff))} | {ms(max(ff))} |",
         f"| outside: spawn `tmux new-session` until `capture-pane -p` shows \"Conversations (\" | "
         f"{ms(statistics.median(seen))} | {ms(min(seen))} | {ms(max(seen))} |",
         f"| of which the `tmux new-session -d` client (server start, session created) | "
         f"{ms(statistics.median(x['client'] for x in runs))} | {ms(min(x['client'] for x in runs))} | "
         f"{ms(max(x['client'] for x in runs))} |",
         "", "Each run, in ms: first_frame_ms " + " ".join(f"{x:g}" for x in ff) + "; outside "
         + " ".join(f"{x:.1f}" for x in seen), "",
         "first_frame_ms comes from the process's start time in /proc/self/stat (clock ticks, "
         f"{1000 / os.sysconf('SC_CLK_TCK'):g} ms here) and /proc/uptime (10 ms), so it has about 10 ms "
         "resolution; the outside figure polls every 5 ms and each poll is a tmux client (a few ms).", ""]
    return {
        "verified": [f"every run drew the conversation list (\"Conversations (\" on the screen) and wrote first_frame_ms"],
        "commands": [("monitor", tmux_shown(shown)),
                     ("outside", "tmux -L earshot-bench-<pid>-<n> capture-pane -p   # every 5 ms from the spawn of new-session")],
        "evals": [(med < 150, f"first frame median {ms(med)} ms (min {ms(min(ff))}, max {ms(max(ff))}) (< 150 ms)")],
        "measured": f"{o.startup_runs} runs, a fresh tmux server each, on an empty file",
        "lines": L,
        "figures": f"first frame median {ms(med)} ms (min {ms(min(ff))}, max {ms(max(ff))}); "
                   f"outside {ms(statistics.median(seen))} ms",
        "stdout": f"first_frame_ms median {ms(med)} (min {ms(min(ff))}, max {ms(max(ff))}), outside median "
                  f"{ms(statistics.median(seen))} ms (incl. tmux start)",
    }


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
            # The same, held to one core: the target's events/s is per core.
            ("earshot, one core", ["taskset", "-c", "0", "{earshot}", "tail", "{jsonl}", "--from-beginning",
                                   "--exit-at-end", "--type", "bot", "--format", "jsonl", "-q"]),
            ("jq", ["jq", "-c", 'select(.event=="bot")', "{jsonl}"]),
            ("grep -c", ["grep", "-c", '"event": "bot"', "{jsonl}"], {"stdout": "file"}),
        ],
        "baseline": "jq",
        "target": {"text": "earshot on one core >= 10x faster than jq and >= 1M events/s",
                   "rules": [("faster", "earshot, one core", "jq", 10.0),
                             ("rate", "earshot, one core", 1_000_000)]},
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
    {
        "name": "sqlite-line-format",
        "description": "The SQLite backfill again, in `tail`'s default output (the one-line summary "
                       "instead of the raw messages), against the same sqlite3 command. Informative: no "
                       "target (the target row above compares like output with like).",
        "commands": [
            ("earshot", ["{earshot}", "tail", "sqlite://{db}", "--from-beginning", "--exit-at-end", "-q"]),
            ("sqlite3", ["sqlite3", "{db}", "select data from events"]),
        ],
        "baseline": "sqlite3",
        "target": None,
        "check": check_line_format_sqlite,
    },
    # TUI rows: a "measure" function instead of commands (see "TUI rows" above)
    {
        "name": "tui-flood",
        "description": "The monitor (`earshot watch`, 120x36 tmux window) following a JSON-lines file while "
                       "`earshot demo --write-only` appends 10k events/s for 60 s (`--flood-rate`, "
                       "`--flood-seconds`), with a key (j, k, j, ...) every 0.5 s. Figures from the monitor's "
                       "`--stats` lines for the seconds wholly inside the writer's run: lag = newest event's own "
                       "timestamp to the flush of the frame showing it (max per second); key = key read to "
                       "frame flushed (max per second; the time the key waits in the terminal before it is read "
                       "is not included); CPU from /proc/PID/stat.",
        "measure": measure_tui_flood,
        "target": {"text": "no growing lag, key answered < 50 ms, < 1 core at 10k events/s"},
    },
    {
        "name": "tui-memory",
        "description": "Resident memory of the monitor holding the 1M-event file in its store: `earshot watch "
                       "FILE --from-beginning` in tmux until its stats show held = 1,000,000, then VmRSS and "
                       "VmHWM from /proc/PID/status, against the messages' raw bytes (file size minus newlines).",
        "measure": measure_tui_memory,
        "target": {"text": "RSS <= 1.3x raw bytes + 50 MB with 1M events held"},
    },
    {
        "name": "tui-startup",
        "description": "Start to first frame: `earshot watch EMPTYFILE` in a fresh tmux server, "
                       "first_frame_ms from its stats (process start to first frame flushed), and from outside "
                       "the time from spawning `tmux new-session` until `capture-pane` shows the conversation "
                       "list (includes tmux's own start).",
        "measure": measure_tui_startup,
        "target": {"text": "first frame < 150 ms"},
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
        ("tmux", cmd_out(["tmux", "-V"])),
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


def measured_section(row, r, when):
    """The report section of a row with a "measure" function (same layout as the others)."""
    ok = all(m for m, _ in r["evals"])
    L = [f"## {row['name']}", "", row["description"], "",
         f"**Target:** {row['target']['text']}. **Result: {'MET' if ok else 'MISSED'}.** "
         + "; ".join(f"{t}: {'MET' if m else '**MISSED**'}" for m, t in r["evals"]) + ".",
         "", f"Measured {when}: {r['measured']}. Checked: " + "; ".join(r["verified"]) + ".", "", "```"]
    L += [f"{label}: {shown}" for label, shown in r["commands"]]
    L += ["```", ""] + r["lines"]
    return "\n".join(L)


def measured_summary(row, r):
    status = "MET" if all(m for m, _ in r["evals"]) else "**MISSED**"
    return f"| {row['name']} | {row['target']['text']} | {status} | {r['figures']} |"


def summary_cells(row, res, evals):
    main = res[0]
    status = ("MET" if all(m for m, _ in evals) else "**MISSED**") if evals else "informative"
    figures = f"{main['label']} {main['median']:.3f}s, {fmt_rate(main['rate'])} events/s"
    b = next((r for r in res if r["label"] == row.get("baseline")), None)
    if b is not None and b is not main:
        figures += f"; {row['baseline']} {b['median']:.3f}s ({fmt_ratio(main['median'], b['median'])})"
    # Commands the target is judged on, when they are not the first one.
    subjects = [rule[1] for rule in (row.get("target") or {}).get("rules", [])]
    for r in res:
        if r is not main and r is not b and r["label"] in subjects:
            figures += f"; {r['label']} {r['median']:.3f}s, {fmt_rate(r['rate'])} events/s"
            if b is not None:
                figures += f" ({fmt_ratio(r['median'], b['median'])})"
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
          "the data / median wall time, for every command alike, whatever it prints.", "",
          "The tui-* rows run the monitor (`earshot watch`) in a 120x36 tmux window, TERM=xterm-256color, "
          "on a private socket (`tmux -L earshot-bench-<pid>-<n>`, a fresh server for every run, killed "
          "afterwards), and take their figures from the lines the monitor appends with `--stats FILE` "
          "(first frame, then once a second: events, held, frames, lag, keys, key and frame times) and "
          "from its /proc files; each row says what it drives, measures and checks.", ""]
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
    ap.add_argument("--flood-seconds", type=int, default=60, help="tui-flood: seconds of writing (default 60)")
    ap.add_argument("--flood-rate", type=int, default=10_000, help="tui-flood: events per second (default 10000)")
    ap.add_argument("--memory-rounds", type=int, default=3, help="tui-memory: rounds (default 3)")
    ap.add_argument("--startup-runs", type=int, default=10, help="tui-startup: runs (default 10)")
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
    if min(args.flood_seconds, args.flood_rate, args.memory_rounds, args.startup_runs) < 1:
        ap.error("--flood-seconds, --flood-rate, --memory-rounds and --startup-runs must be at least 1")
    if any(r.get("measure") for r in rows) and shutil.which("tmux") is None:
        ap.error("the tui-* rows need tmux (make test-deps installs it)")
    # SIGTERM/SIGHUP end the run through the finally blocks: tmux servers and writers are killed
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda s, _f: sys.exit(128 + s))

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
        ctx.update({"tmp": tmp, "opts": args, "earshot": values["earshot"], "earshot_abs": earshot})
        for row in rows:
            log(f"{row['name']}:")
            try:
                if row.get("measure"):
                    r = row["measure"](ctx, log)
                    sections.append((row["name"], measured_section(row, r, when), measured_summary(row, r)))
                    ok = all(m for m, _ in r["evals"])
                    summary.append(f"{row['name']}: {r['stdout']} -> {'MET' if ok else 'MISSED'}: "
                                   + "; ".join(f"{t} {'MET' if m else 'MISSED'}" for m, t in r["evals"]))
                    continue
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
