#!/usr/bin/env python3
"""Renders a terminal capture with ANSI colours (`tmux capture-pane -e -p`) as a PNG.

    scripts/ansi2png.py capture.ansi out.png --cols 120 --rows 36 [--bg '#1c1c1c' --fg '#d0d0d0']

SGR parsing: 16 and 256 colours, 24-bit colour, bold, dim, italic, underline, reverse,
strike-through, default colours. Cells are a fixed grid: wide characters (East Asian Wide or
Fullwidth) take two cells, combining marks join the character before them. Text is drawn with
DejaVu Sans Mono (regular, bold, oblique) and falls back to DejaVu Sans, then to a CJK font
(WenQuanYi Micro Hei or Noto CJK) for glyphs it lacks; a glyph no font has (most emoji) is
drawn as a small outlined box. Box-drawing lines are drawn as lines, so borders join up.
"""

import argparse
import os
import re
import sys
import unicodedata

from PIL import Image, ImageDraw, ImageFont

FONT_DIRS = ["/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu"]
CJK_FONTS = [
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 1),  # the Mono face of the collection
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
]

# xterm's 16 colours.
BASE16 = [
    (0x00, 0x00, 0x00), (0xCD, 0x00, 0x00), (0x00, 0xCD, 0x00), (0xCD, 0xCD, 0x00),
    (0x00, 0x00, 0xEE), (0xCD, 0x00, 0xCD), (0x00, 0xCD, 0xCD), (0xE5, 0xE5, 0xE5),
    (0x7F, 0x7F, 0x7F), (0xFF, 0x00, 0x00), (0x00, 0xFF, 0x00), (0xFF, 0xFF, 0x00),
    (0x5C, 0x5C, 0xFF), (0xFF, 0x00, 0xFF), (0x00, 0xFF, 0xFF), (0xFF, 0xFF, 0xFF),
]


def palette256(n):
    if n < 16:
        return BASE16[n]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return (steps[n // 36], steps[(n // 6) % 6], steps[n % 6])
    v = 8 + (n - 232) * 10
    return (v, v, v)


def hex_colour(s):
    s = s.lstrip("#")
    return tuple(int(s[i:i + 2], 16) for i in (0, 2, 4))


class Attr:
    __slots__ = ("fg", "bg", "bold", "dim", "italic", "underline", "reverse", "strike")

    def __init__(self):
        self.reset()

    def reset(self):
        self.fg = None  # None: the default colour
        self.bg = None
        self.bold = self.dim = self.italic = self.underline = self.reverse = self.strike = False

    def copy(self):
        a = Attr()
        for k in Attr.__slots__:
            setattr(a, k, getattr(self, k))
        return a

    def apply(self, params):
        ps = [int(p) if p.isdigit() else 0 for p in re.split("[;:]", params)] if params else [0]
        i = 0
        while i < len(ps):
            p = ps[i]
            if p == 0:
                self.reset()
            elif p == 1:
                self.bold = True
            elif p == 2:
                self.dim = True
            elif p == 3:
                self.italic = True
            elif p == 4:
                self.underline = True
            elif p == 7:
                self.reverse = True
            elif p == 9:
                self.strike = True
            elif p in (21, 22):
                self.bold = self.dim = False
            elif p == 23:
                self.italic = False
            elif p == 24:
                self.underline = False
            elif p == 27:
                self.reverse = False
            elif p == 29:
                self.strike = False
            elif 30 <= p <= 37:
                self.fg = BASE16[p - 30]
            elif p == 39:
                self.fg = None
            elif 40 <= p <= 47:
                self.bg = BASE16[p - 40]
            elif p == 49:
                self.bg = None
            elif 90 <= p <= 97:
                self.fg = BASE16[p - 90 + 8]
            elif 100 <= p <= 107:
                self.bg = BASE16[p - 100 + 8]
            elif p in (38, 48) and i + 1 < len(ps):
                colour = None
                if ps[i + 1] == 5 and i + 2 < len(ps):
                    colour = palette256(ps[i + 2] % 256)
                    i += 2
                elif ps[i + 1] == 2 and i + 4 < len(ps):
                    colour = (ps[i + 2] % 256, ps[i + 3] % 256, ps[i + 4] % 256)
                    i += 4
                if p == 38:
                    self.fg = colour
                else:
                    self.bg = colour
            i += 1


def cell_width(ch):
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    if 0xFE00 <= ord(ch) <= 0xFE0F:  # variation selectors
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


SGR = re.compile(r"\x1b\[([0-9;:?]*)([A-Za-z])")
OTHER_ESC = re.compile(r"\x1b[()][0-9A-Za-z]|\x1b[=>]")


def parse(text, cols, rows):
    """A rows x cols grid of [text, attr] cells (text "" for the right half of a wide char)."""
    blank = Attr()
    grid = [[[" ", blank] for _ in range(cols)] for _ in range(rows)]
    attr = Attr()
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for y, line in enumerate(lines[:rows]):
        x = 0
        pos = 0
        line = OTHER_ESC.sub("", line)
        while pos < len(line):
            m = SGR.match(line, pos)
            if m:
                if m.group(2) == "m":
                    attr.apply(m.group(1))
                pos = m.end()
                continue
            ch = line[pos]
            pos += 1
            if ch == "\r" or ch == "\x1b":
                continue
            if 0xFE00 <= ord(ch) <= 0xFE0F or ch in "\u200b\u200c\u200d\u2060":
                continue  # presentation selectors and joiners: nothing to draw
            w = cell_width(ch)
            if w == 0:
                if x > 0:
                    prev = x - 1
                    if grid[y][prev][0] == "" and prev > 0:
                        prev -= 1
                    grid[y][prev][0] += ch
                continue
            if x + w > cols:
                break
            grid[y][x] = [ch, attr.copy()]
            if w == 2:
                grid[y][x + 1] = ["", attr.copy()]
            x += w
    return grid


class Fonts:
    def __init__(self, size, font_dir):
        def load(name):
            for d in ([font_dir] if font_dir else []) + FONT_DIRS:
                p = os.path.join(d, name)
                if os.path.exists(p):
                    return ImageFont.truetype(p, size)
            return None

        self.regular = load("DejaVuSansMono.ttf")
        if self.regular is None:
            sys.exit("ansi2png: DejaVu Sans Mono not found (apt-get install fonts-dejavu-core)")
        self.faces = {
            (False, False): self.regular,
            (True, False): load("DejaVuSansMono-Bold.ttf") or self.regular,
            (False, True): load("DejaVuSansMono-Oblique.ttf") or self.regular,
            (True, True): load("DejaVuSansMono-BoldOblique.ttf") or self.regular,
        }
        self.fallbacks = [f for f in (load("DejaVuSans.ttf"), load("DejaVuSans-Bold.ttf")) if f]
        for path, index in CJK_FONTS:
            if os.path.exists(path):
                try:
                    self.fallbacks.append(ImageFont.truetype(path, size, index=index))
                    break
                except OSError:
                    continue
        self.size = size
        ascent, descent = self.regular.getmetrics()
        self.ascent = ascent
        self.cell_w = round(self.regular.getlength("M"))
        self.cell_h = ascent + descent
        self._notdef = {}
        self._choice = {}

    def _missing(self, font, ch):
        """Whether `font` draws `ch` as its .notdef box."""
        key = id(font)
        if key not in self._notdef:
            self._notdef[key] = bytes(font.getmask("\U0010FFFD"))
        mask = font.getmask(ch)
        return bytes(mask) == self._notdef[key] and mask.size == font.getmask("\U0010FFFD").size

    def font_for(self, ch, bold, italic):
        """The face that has `ch`, or None when no font has it."""
        face = self.faces[(bold, italic)]
        k = (ch, bold, italic)
        if k not in self._choice:
            choice = None
            for f in [face] + self.fallbacks:
                if not self._missing(f, ch[0]):
                    choice = f
                    break
            self._choice[k] = choice
        return self._choice[k]


# Box drawing: (left, right, up, down) arm weights, 1 light, 2 heavy.
BOX = {
    "─": (1, 1, 0, 0), "━": (2, 2, 0, 0), "│": (0, 0, 1, 1), "┃": (0, 0, 2, 2),
    "┌": (0, 1, 0, 1), "┐": (1, 0, 0, 1), "└": (0, 1, 1, 0), "┘": (1, 0, 1, 0),
    "┏": (0, 2, 0, 2), "┓": (2, 0, 0, 2), "┗": (0, 2, 2, 0), "┛": (2, 0, 2, 0),
    "├": (0, 1, 1, 1), "┤": (1, 0, 1, 1), "┬": (1, 1, 0, 1), "┴": (1, 1, 1, 0), "┼": (1, 1, 1, 1),
    "┣": (0, 2, 2, 2), "┫": (2, 0, 2, 2), "┳": (2, 2, 0, 2), "┻": (2, 2, 2, 0), "╋": (2, 2, 2, 2),
    "╴": (1, 0, 0, 0), "╶": (0, 1, 0, 0), "╵": (0, 0, 1, 0), "╷": (0, 0, 0, 1),
}
BLOCKS = {"█": (0, 1), "▀": (0, 0.5), "▄": (0.5, 1)}


def draw_box(draw, ch, x0, y0, cw, chh, colour, scale):
    left, right, up, down = BOX[ch]
    cx, cy = x0 + cw // 2, y0 + chh // 2
    light = max(1, round(scale))
    heavy = max(2, round(2.2 * scale))

    def t(w):
        return heavy if w == 2 else light

    # The vertical and the horizontal stroke through the centre; each arm reaches exactly
    # the far edge of the other stroke, so corners and joints are square.
    tv = t(max(up, down)) if (up or down) else 0
    th = t(max(left, right)) if (left or right) else 0
    vx0 = cx - tv // 2
    hy0 = cy - th // 2
    if left:
        w = t(left)
        top = cy - w // 2
        draw.rectangle([x0, top, (vx0 + tv - 1) if tv else cx, top + w - 1], fill=colour)
    if right:
        w = t(right)
        top = cy - w // 2
        draw.rectangle([vx0 if tv else cx, top, x0 + cw - 1, top + w - 1], fill=colour)
    if up:
        w = t(up)
        lft = cx - w // 2
        draw.rectangle([lft, y0, lft + w - 1, (hy0 + th - 1) if th else cy], fill=colour)
    if down:
        w = t(down)
        lft = cx - w // 2
        draw.rectangle([lft, hy0 if th else cy, lft + w - 1, y0 + chh - 1], fill=colour)


def blend(a, b, t):
    return tuple(round(a[i] * (1 - t) + b[i] * t) for i in range(3))


def render(grid, fonts, default_fg, default_bg, padding):
    rows, cols = len(grid), len(grid[0])
    cw, chh = fonts.cell_w, fonts.cell_h
    img = Image.new("RGB", (cols * cw + 2 * padding, rows * chh + 2 * padding), default_bg)
    draw = ImageDraw.Draw(img)
    scale = fonts.size / 14
    for y, row in enumerate(grid):
        for x, (text, a) in enumerate(row):
            if text == "":
                continue
            fg = a.fg if a.fg is not None else default_fg
            bg = a.bg if a.bg is not None else default_bg
            if a.reverse:
                fg, bg = bg, fg
            if a.dim:
                fg = blend(fg, bg, 0.45)
            width = 2 if x + 1 < cols and row[x + 1][0] == "" else 1
            x0, y0 = padding + x * cw, padding + y * chh
            if bg != default_bg:
                draw.rectangle([x0, y0, x0 + width * cw - 1, y0 + chh - 1], fill=bg)
            ch = text[0]
            if ch == " " and len(text) == 1:
                pass
            elif ch in BOX and len(text) == 1:
                draw_box(draw, ch, x0, y0, cw, chh, fg, scale)
            elif ch in BLOCKS and len(text) == 1:
                t0, t1 = BLOCKS[ch]
                draw.rectangle([x0, y0 + round(t0 * chh), x0 + cw - 1, y0 + round(t1 * chh) - 1], fill=fg)
            else:
                font = fonts.font_for(text, a.bold, a.italic)
                if font is None:
                    # No font has it (an emoji): an outlined box the size of its cells.
                    m = max(1, round(2 * scale))
                    draw.rectangle([x0 + m, y0 + m + 1, x0 + width * cw - 1 - m, y0 + chh - 2 - m], outline=fg)
                else:
                    glyph_w = font.getlength(text)
                    # Centre what is narrower than its cells; squeeze nothing.
                    gx = x0 + max(0, (width * cw - glyph_w) / 2) if font is not fonts.faces[(a.bold, a.italic)] else x0
                    # Fallback fonts have other metrics: align on the baseline of the main font.
                    fa, _ = font.getmetrics()
                    gy = y0 + fonts.ascent - fa
                    draw.text((gx, gy), text, font=font, fill=fg)
                    if a.bold and font in fonts.fallbacks:
                        draw.text((gx + 1, gy), text, font=font, fill=fg)
            if a.underline:
                uy = y0 + fonts.ascent + max(1, round(2 * scale))
                draw.line([x0, uy, x0 + width * cw - 1, uy], fill=fg, width=max(1, round(scale)))
            if a.strike:
                sy = y0 + chh // 2
                draw.line([x0, sy, x0 + width * cw - 1, sy], fill=fg, width=max(1, round(scale)))
    return img


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input", help="capture with ANSI escapes ('-' for stdin)")
    ap.add_argument("output", help="PNG to write")
    ap.add_argument("--cols", type=int, default=120)
    ap.add_argument("--rows", type=int, default=36)
    ap.add_argument("--bg", default="#1c1c1c", help="default background (default #1c1c1c)")
    ap.add_argument("--fg", default="#d0d0d0", help="default foreground (default #d0d0d0)")
    ap.add_argument("--font-size", type=int, default=15)
    ap.add_argument("--font-dir", default=None, help="folder with DejaVuSansMono*.ttf")
    ap.add_argument("--padding", type=int, default=8)
    args = ap.parse_args()
    if args.input == "-":
        text = sys.stdin.buffer.read().decode("utf-8", "replace")
    else:
        with open(args.input, "rb") as f:
            text = f.read().decode("utf-8", "replace")
    fonts = Fonts(args.font_size, args.font_dir)
    grid = parse(text, args.cols, args.rows)
    img = render(grid, fonts, hex_colour(args.fg), hex_colour(args.bg), args.padding)
    img.save(args.output, optimize=True)


if __name__ == "__main__":
    main()
