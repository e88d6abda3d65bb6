// The only place curses.h is included. Wide-character API on; the macros and variadic
// functions Swift cannot call are wrapped in static inline functions.
#define NCURSES_WIDECHAR 1
#define _XOPEN_SOURCE_EXTENDED 1
#include <curses.h>
#include <locale.h>
#include <stdio.h>
#include <wchar.h>

static inline WINDOW *es_stdscr(void) { return stdscr; }
static inline int es_lines(void) { return LINES; }
static inline int es_cols(void) { return COLS; }
static inline int es_colors(void) { return COLORS; }
static inline int es_color_pairs(void) { return COLOR_PAIRS; }
static inline attr_t es_a_bold(void) { return A_BOLD; }
static inline attr_t es_a_dim(void) { return A_DIM; }
static inline attr_t es_a_underline(void) { return A_UNDERLINE; }
static inline attr_t es_a_reverse(void) { return A_REVERSE; }
static inline attr_t es_a_italic(void) { return A_ITALIC; }
static inline attr_t es_a_normal(void) { return A_NORMAL; }
static inline int es_key_resize(void) { return KEY_RESIZE; }
static inline int es_key_mouse(void) { return KEY_MOUSE; }
static inline int es_ok(void) { return OK; }
static inline int es_err(void) { return ERR; }
static inline int es_key_code_yes(void) { return KEY_CODE_YES; }
static inline mmask_t es_button1_pressed(void) { return BUTTON1_PRESSED | BUTTON1_CLICKED; }
static inline mmask_t es_button4_pressed(void) { return BUTTON4_PRESSED; }
#if NCURSES_MOUSE_VERSION > 1
static inline mmask_t es_button5_pressed(void) { return BUTTON5_PRESSED; }
#else
static inline mmask_t es_button5_pressed(void) { return 0x8000000; }
#endif
static inline mmask_t es_all_mouse_events(void) { return ALL_MOUSE_EVENTS; }

/// Draws one cell: a grapheme (UTF-32, up to 5 code points) with attributes and a colour pair.
static inline int es_put_cell(int y, int x, const wchar_t *wch, attr_t attrs, short pair) {
    cchar_t c;
    setcchar(&c, wch, attrs, pair, NULL);
    return mvwadd_wch(stdscr, y, x, &c);
}
