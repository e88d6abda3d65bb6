#!/usr/bin/env bash
# Screenshots of the monitor for the README: writes a demo database with a fixed seed, runs
# `earshot watch` in tmux at 120x36 for each shot, drives it with keys, captures the screen
# with its colours and renders it as PNG (scripts/ansi2png.py) into screenshots/.
#   make screenshots                      (builds release first)
#   EARSHOT_BIN=/path/to/earshot scripts/screenshots.sh
# Installs what it needs when it is missing: fonts-dejavu-core, fonts-wqy-microhei (CJK
# fallback, 1.6 MB), tmux, and Pillow.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BIN="${EARSHOT_BIN:-$ROOT/.build/release/earshot}"
OUT="$ROOT/screenshots"
COLS=120
ROWS=36

# --- what the script needs -------------------------------------------------------------
sudo=""
[[ $(id -u) -ne 0 ]] && sudo="sudo"
missing=()
for p in fonts-dejavu-core fonts-wqy-microhei tmux; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! python3 -c 'import PIL' 2>/dev/null; then
    echo "installing: pillow"
    python3 -m pip install -q pillow 2>/dev/null || $sudo apt-get install -y -qq --no-install-recommends python3-pil >/dev/null
fi
if [[ ! -x "$BIN" ]]; then
    echo "building: swift build -c release"
    swift build -c release
fi

case "${LC_ALL:-${LC_CTYPE:-${LANG:-}}}" in
    *UTF-8* | *utf8* | *UTF8* | *utf-8*) ;;
    *) export LANG=C.UTF-8 LC_ALL=C.UTF-8 ;;
esac
unset NO_COLOR TMUX

WORK="$(mktemp -d "${TMPDIR:-/tmp}/earshot-shots.XXXXXX")"
SHOT=0
SOCK="earshot-shots-$$-$SHOT"
# The database sits where `earshot demo` keeps its own (git-ignored), so that the status bar
# shows a short relative source rather than a temporary path.
DB_REL="earshot-demo/screenshots.db"
DB="$ROOT/$DB_REL"
MADE_DIR=""
stop_tmux() {
    local path
    path="$(tmux -L "$SOCK" display-message -p '#{socket_path}' 2>/dev/null || true)"
    tmux -L "$SOCK" kill-server 2>/dev/null || true
    [[ -n "$path" ]] && rm -f "$path"
    return 0
}
cleanup() {
    stop_tmux
    rm -rf "$WORK"
    rm -f "$DB" "$DB-journal" "$DB-wal" "$DB-shm"
    [[ -n "$MADE_DIR" ]] && rmdir "$MADE_DIR" 2>/dev/null
    return 0
}
trap cleanup EXIT

# --- the data: a fixed simulation -------------------------------------------------------
MADE_DIR=""
[[ -d "$(dirname "$DB")" ]] || { mkdir -p "$(dirname "$DB")"; MADE_DIR="$(dirname "$DB")"; }
rm -f "$DB" "$DB-journal" "$DB-wal" "$DB-shm"
"$BIN" demo --write-only "$DB" --rate 200 --count 400 --seed 42 >/dev/null
mkdir -p "$OUT"

t() { tmux -u -L "$SOCK" "$@"; }

# wait_for TEXT: polls the screen (every 0.1 s, up to 10 s) until it contains TEXT.
wait_for() {
    local i
    for ((i = 0; i < 100; i++)); do
        if t capture-pane -p | grep -qF -- "$1"; then return 0; fi
        sleep 0.1
    done
    echo "screenshots: the screen never showed '$1':" >&2
    t capture-pane -p >&2
    exit 1
}

# wait_gone TEXT: until the screen no longer contains TEXT.
wait_gone() {
    local i
    for ((i = 0; i < 100; i++)); do
        if ! t capture-pane -p | grep -qF -- "$1"; then return 0; fi
        sleep 0.1
    done
    echo "screenshots: the screen still shows '$1'" >&2
    exit 1
}

# start THEME: the monitor on the demo database (a new tmux server for each shot), once it
# shows every event.
start() {
    stop_tmux
    SHOT=$((SHOT + 1))
    SOCK="earshot-shots-$$-$SHOT"
    t -f /dev/null new-session -d -x "$COLS" -y "$ROWS" \
        "cd '$ROOT' && TERM=xterm-256color exec '$BIN' watch 'sqlite://$DB_REL' --from-beginning --theme $1"
    wait_for "400 events"
}

# keys KEY...: sends keys one at a time, letting each be drawn.
keys() {
    local k
    for k in "$@"; do
        t send-keys "$k"
        sleep 0.15
    done
}

# snap NAME [ansi2png options]: captures the screen with its colours and renders NAME.png.
snap() {
    local name="$1"
    shift
    sleep 0.3
    t capture-pane -e -p >"$WORK/$name.ansi"
    python3 "$ROOT/scripts/ansi2png.py" "$WORK/$name.ansi" "$OUT/$name.png" --cols "$COLS" --rows "$ROWS" "$@"
    echo "screenshots/$name.png ($(($(stat -c %s "$OUT/$name.png") / 1024)) KB)"
}

DARK=(--bg '#1c1c1c' --fg '#d0d0d0')
LIGHT=(--bg '#ffffff' --fg '#1c1c1c')

# A conversation selected: the list on the left, its transcript on the right.
start dark
keys j j
wait_gone "┌ All conversations"
snap list-transcript "${DARK[@]}"

# The full JSON of a user message: found with search, then opened.
start dark
keys j j /
t send-keys -l tomorrow
keys Enter
wait_for "search=tomorrow"
keys Enter
wait_for '"sender_id":'
snap detail "${DARK[@]}"

# The event-type menu, with action hidden.
start dark
keys j j t
wait_for "Event types"
keys Space j j j
wait_for "[ ] action "
snap type-filter "${DARK[@]}"

# The light theme, on a white terminal.
start light
keys j j
wait_gone "┌ All conversations"
snap light "${LIGHT[@]}"

# The monochrome theme: attributes only.
start monochrome
keys j j
wait_gone "┌ All conversations"
snap monochrome "${DARK[@]}"
