/* Text normalisation (nlpkit.text.normalize): character classes, NFC, cleaning, the cut. */

#include "core.h"

/* ---------------------------------------------------------------------------------------
 * Character classes
 * ------------------------------------------------------------------------------------- */

uint8_t char_flags[TABLE_SIZE];

COLD uint8_t
compute_flags(cp_t c)
{
    uint8_t f = 0;
    if (Py_UNICODE_ISSPACE(c))
        f |= F_SPACE;
    int alnum = Py_UNICODE_ISALNUM(c);
    if (alnum || c == '_')
        f |= F_WORD;
    if (Py_UNICODE_ISDECIMAL(c))
        f |= F_DEC;
    if (alnum && !Py_UNICODE_ISDECIMAL(c) && c != '_')
        f |= F_LETTER;
    if (c < 0x2000 && Py_UNICODE_ISUPPER(c))
        f |= F_UPPER;
    if (c < 0x2000 && Py_UNICODE_ISLOWER(c))
        f |= F_LOWER;
    if (c <= 0x08 || (c >= 0x0b && c <= 0x1f) || (c >= 0x7f && c <= 0x9f) || c == 0x2028 ||
        c == 0x2029)
        f |= F_CTRL;
    if (c == 0xad || c == 0x61c || c == 0x180e || (c >= 0x200b && c <= 0x200f) ||
        (c >= 0x202a && c <= 0x202e) || (c >= 0x2060 && c <= 0x2064) ||
        (c >= 0x2066 && c <= 0x206f) || c == 0xfeff)
        f |= F_INVISIBLE;
    if (c == ' ' || c == '\t' || c == 0xa0 || (c >= 0x2000 && c <= 0x200a) || c == 0x202f ||
        c == 0x205f || c == 0x3000)
        f |= F_SPACES;
    return f;
}

void
init_char_flags(void)
{
    for (cp_t c = 0; c < TABLE_SIZE; c++)
        char_flags[c] = compute_flags(c);
}

/* Characters that NFC leaves as they are wherever they stand: combining class 0, NFC on their
 * own, never the second half of a composition. A text of nothing else is NFC, and the core
 * skips asking Python. Read from Python's unicodedata at import for the ranges Vietnamese
 * text is written in (Latin, its precomposed letters with tone marks, punctuation); the
 * tests check the third condition over all of Unicode. */

uint8_t nfc_inert[INERT_LIMIT];

void
init_nfc_inert(void)
{
    static const cp_t ranges[][2] = {{0, 0x300}, {0x1E00, 0x1F00}, {0x2000, INERT_LIMIT}};
    PyObject *ud = PyImport_ImportModule("unicodedata"), *combining = NULL, *normal = NULL;
    PyObject *form = PyUnicode_FromString("NFC");
    if (ud && form) {
        combining = PyObject_GetAttrString(ud, "combining");
        normal = PyObject_GetAttrString(ud, "is_normalized");
    }
    for (size_t r = 0; combining && normal && r < sizeof(ranges) / sizeof(ranges[0]); r++)
        for (cp_t c = ranges[r][0]; c < ranges[r][1]; c++) {
            PyObject *ch = PyUnicode_FromOrdinal((int)c);
            PyObject *ccc = ch ? PyObject_CallOneArg(combining, ch) : NULL;
            PyObject *yes = ch ? PyObject_CallFunctionObjArgs(normal, form, ch, NULL) : NULL;
            nfc_inert[c] = ccc && yes && PyLong_AsLong(ccc) == 0 && yes == Py_True;
            Py_XDECREF(ch);
            Py_XDECREF(ccc);
            Py_XDECREF(yes);
        }
    PyErr_Clear(); /* whatever failed is simply not skipped */
    /* The second bit: "&" and "<", which may begin an HTML character reference or tag
     * (clean_lines says whether a text holds one in the reading that cleans it). */
    nfc_inert['&'] |= 2;
    nfc_inert['<'] |= 2;
    Py_XDECREF(ud);
    Py_XDECREF(form);
    Py_XDECREF(combining);
    Py_XDECREF(normal);
}

uint8_t case_flags[CASE_LIMIT];
cp_t case_lower[CASE_LIMIT];

void
init_case_table(void)
{
    /* (the ranges of Latin and of the precomposed letters with tone marks; str.lower of a
     * whole string is its characters' own, but for the final sigma, which is not in them) */
    static const cp_t ranges[][2] = {{0, 0x250}, {0x1E00, CASE_LIMIT}};
    for (size_t r = 0; r < sizeof(ranges) / sizeof(ranges[0]); r++)
        for (cp_t c = ranges[r][0]; c < ranges[r][1]; c++) {
            PyObject *ch = PyUnicode_FromOrdinal((int)c);
            PyObject *low = ch ? PyObject_CallMethod(ch, "lower", NULL) : NULL;
            if (low != NULL && PyUnicode_Check(low) && PyUnicode_GET_LENGTH(low) == 1) {
                case_lower[c] = PyUnicode_READ_CHAR(low, 0);
                case_flags[c] = (uint8_t)(C_KNOWN | (Py_UNICODE_ISUPPER(c) ? C_UPPER : 0) |
                                          (Py_UNICODE_ISLOWER(c) ? C_LOWER : 0) |
                                          (Py_UNICODE_ISTITLE(c) ? C_TITLE : 0) |
                                          (Py_UNICODE_ISDIGIT(c) ? C_DIGIT : 0));
            }
            Py_XDECREF(ch);
            Py_XDECREF(low);
        }
    PyErr_Clear(); /* whatever failed is simply left to Python */
}

/* --- Normalisation (nlpkit.text._normalize and _normalize_prefix) -------------------- */

/* unicodedata.normalize("NFC", s), without asking Python when every character is inert. */
COLD PyObject *
nfc(Segmenter *seg, PyObject *s)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    int kind = PyUnicode_KIND(s), inert = 1;
    const void *data = PyUnicode_DATA(s);
    for (Py_ssize_t i = 0; i < n && inert; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        inert = INERT(c);
    }
    if (inert)
        return Py_NewRef(s);
    PyObject *args[2] = {seg->nfc, s};
    return PyObject_Vectorcall(seg->normalize, args, 2, NULL);
}

/* Whether a str holds content: a character that is neither white space nor a control
 * character (text.check_text). */
int
has_content(PyObject *s)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    int kind = PyUnicode_KIND(s);
    const void *data = PyUnicode_DATA(s);
    for (Py_ssize_t i = 0; i < n; i++)
        if (!(flags_of(PyUnicode_READ(kind, data, i)) & (F_SPACE | F_CTRL)))
            return 1;
    return 0;
}

/* Whether a str holds an invisible character (text._INVISIBLE). */
static int
has_invisible(PyObject *s)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    int kind = PyUnicode_KIND(s);
    const void *data = PyUnicode_DATA(s);
    if (kind == PyUnicode_1BYTE_KIND)
        return memchr(data, 0xad, (size_t)n) != NULL; /* (the only one below U+0100) */
    for (Py_ssize_t i = 0; i < n; i++)
        if (IS_INVISIBLE(flags_of(PyUnicode_READ(kind, data, i))))
            return 1;
    return 0;
}

int
has_surrogates(PyObject *s)
{
    /* (a loop without an early exit: the compiler vectorises it) */
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    int any = 0;
    if (PyUnicode_KIND(s) == PyUnicode_2BYTE_KIND) {
        const Py_UCS2 *d = PyUnicode_2BYTE_DATA(s);
        for (Py_ssize_t i = 0; i < n; i++)
            any |= (d[i] & 0xf800) == 0xd800;
    }
    else if (PyUnicode_KIND(s) == PyUnicode_4BYTE_KIND) {
        const Py_UCS4 *d = PyUnicode_4BYTE_DATA(s);
        for (Py_ssize_t i = 0; i < n; i++)
            any |= (d[i] & 0xfffff800) == 0xd800;
    }
    return any;
}

static int clean_str(PyObject *t, Work *w, int check_inert, int *dateline, int *html);
static int unglue_datelines(Work *w, CpBuf *out, int dateline);

static int normalize_plain(Segmenter *seg, PyObject *s, Work *w, CpBuf *out,
                           int may_have_surrogates, int *html);

/* _normalize(s) into `out` (may_have_surrogates: 0 if s is known to hold none). A text that
 * holds "&" or "<" may hold HTML character references or tags: Python's markup.read_markup
 * reads them first, as _normalize does (rare in news text, and one reading for both paths).
 * Whether it holds one is seen in the reading that cleans it, which is then made again of the
 * text read: a separate search for "&" cost every headline 5% of its time. */
static int
normalize_full(Segmenter *seg, PyObject *s, Work *w, CpBuf *out, int may_have_surrogates)
{
    int html = 0;
    int status = normalize_plain(seg, s, w, out, may_have_surrogates, &html);
    if (status < 0 || !html || seg->markup == NULL)
        return status;
    PyObject *plain = PyObject_CallOneArg(seg->markup, s);
    if (plain == NULL)
        return -1;
    if (!PyUnicode_Check(plain)) {
        Py_DECREF(plain);
        PyErr_SetString(PyExc_TypeError, "markup must return a str");
        return -1;
    }
    /* (the same str back: no reference or tag, and `out` is already its normalisation) */
    if (plain != s)
        status = normalize_plain(seg, plain, w, out, may_have_surrogates, NULL);
    Py_DECREF(plain);
    return status;
}

/* _normalize(s) as if it held no reference or tag, into `out`; *html (when given): whether
 * it holds "&" or "<". */
static int
normalize_plain(Segmenter *seg, PyObject *s, Work *w, CpBuf *out, int may_have_surrogates,
                int *html)
{
    int dateline;
    /* Most texts: every character NFC-inert (then s is its own NFC and holds no lone
     * surrogate, which is not inert), found while cleaning it: one reading of the text. */
    int inert = clean_str(s, w, 1, &dateline, html);
    if (inert < 0)
        return -1;
    if (inert)
        return unglue_datelines(w, out, dateline);
    PyObject *t;
    int surrogates = may_have_surrogates && has_surrogates(s);
    if (surrogates || has_invisible(s)) {
        /* text.encode("utf-8", "replace").decode(): each lone surrogate becomes "?"; and the
         * invisible characters removed before NFC, which may then compose what they kept
         * apart (a letter and its accent) */
        if (cp_from_str(&w->raw, s, NULL) < 0)
            return -1;
        Py_ssize_t n = 0;
        for (Py_ssize_t i = 0; i < w->raw.n; i++) {
            cp_t c = w->raw.p[i];
            if (c >= 0xd800 && c <= 0xdfff)
                c = '?';
            else if (IS_INVISIBLE(flags_of(c)))
                continue;
            w->raw.p[n++] = c;
        }
        PyObject *fixed = str_from_cp(w->raw.p, n);
        if (fixed == NULL)
            return -1;
        t = nfc(seg, fixed);
        Py_DECREF(fixed);
    }
    else
        t = nfc(seg, s);
    if (t == NULL)
        return -1;
    int status = clean_str(t, w, 0, &dateline, NULL);
    Py_DECREF(t);
    return status < 0 ? -1 : unglue_datelines(w, out, dateline);
}

/* In one pass: "\r\n", "\r" and the other line ends of _LINE_END to "\n"; invisible
 * characters removed, control characters to " "; runs of _SPACES to one " "; lines stripped
 * (str.strip), empty ones dropped, joined by "\n". Into b, which has room for n characters.
 * Returns whether every character is NFC-inert (when check_inert); *dateline: whether the
 * result may hold a glued dateline (_DATELINE_HINT: an upper-case letter or digit, an
 * upper-case letter, a lower-case letter); *html (when given, with check_inert): whether it
 * holds "&" or "<" (nfc_inert's second bit). (Inlined once per kind of str, with `kind` a
 * constant.) */
static inline int
clean_lines(const void *r, int kind, Py_ssize_t n, CpBuf *b, int check_inert, int *dateline,
            int *html)
{
    Py_ssize_t line = 0; /* where the current line starts in b */
    int at_start = 1;    /* nothing of the current line out yet */
    unsigned inert = 1, seen = 0, hint = 0;
    /* The flags of the last two characters out. A space taken back at the end of a line may
     * leave its flags here: white space matches no part of the hint. */
    unsigned f1 = 0, f2 = 0;
    b->n = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        cp_t c = PyUnicode_READ(kind, r, i);
        if (check_inert) {
            unsigned v = c < INERT_LIMIT ? nfc_inert[c] : 0;
            inert &= v;
            seen |= v;
        }
        if (c == '\r') {
            if (i + 1 < n && PyUnicode_READ(kind, r, i + 1) == '\n')
                continue;
            c = '\n';
        }
        if (c == '\n') {
        line_end:
            while (b->n > line && IS_SPACE(b->p[b->n - 1]))
                b->n--;
            at_start = 1;
            continue;
        }
        unsigned f = flags_of(c);
        if (IS_INVISIBLE(f))
            continue;
        if (f & (F_CTRL | F_SPACES)) {
            /* (str.splitlines' other line ends, all control characters: VT, FF, FS, GS, RS,
             * NEL, LS, PS; looked for here, off the path of every other character) */
            if ((f & F_CTRL) && (c == 0x0b || c == 0x0c || (c >= 0x1c && c <= 0x1e) ||
                                 c == 0x85 || c == 0x2028 || c == 0x2029))
                goto line_end;
            if (at_start || b->p[b->n - 1] == ' ')
                continue; /* a leading space, or the run's space is out already */
            c = ' ';
            f = F_SPACE;
        }
        else if (at_start) {
            if (f & F_SPACE)
                continue; /* other leading white space */
            if (b->n) {
                b->p[b->n++] = '\n';
                f2 = f1;
                f1 = F_SPACE;
            }
            line = b->n;
            at_start = 0;
        }
        hint |= (f & F_LOWER) && (f1 & F_UPPER) && (f2 & (F_UPPER | F_DEC));
        f2 = f1;
        f1 = f;
        b->p[b->n++] = c;
    }
    while (b->n > line && IS_SPACE(b->p[b->n - 1]))
        b->n--;
    *dateline = (int)hint;
    if (html)
        *html = (seen & 2) != 0;
    return (int)(inert & 1);
}

/* clean_lines of a str into w->tmp; -1 on failure. */
static int
clean_str(PyObject *t, Work *w, int check_inert, int *dateline, int *html)
{
    CpBuf *b = &w->tmp;
    Py_ssize_t n = PyUnicode_GET_LENGTH(t);
    if (GROW(b->p, b->cap, n + 1) < 0)
        return -1;
    switch (PyUnicode_KIND(t)) {
    case PyUnicode_1BYTE_KIND:
        return clean_lines(PyUnicode_DATA(t), PyUnicode_1BYTE_KIND, n, b, check_inert, dateline,
                           html);
    case PyUnicode_2BYTE_KIND:
        return clean_lines(PyUnicode_DATA(t), PyUnicode_2BYTE_KIND, n, b, check_inert, dateline,
                           html);
    default:
        return clean_lines(PyUnicode_DATA(t), PyUnicode_4BYTE_KIND, n, b, check_inert, dateline,
                           html);
    }
}

/* The rest of _normalize, on the cleaned text in w->tmp, into out. */
static int
unglue_datelines(Work *w, CpBuf *out, int dateline)
{
    CpBuf *b = &w->tmp;
    /* Glued datelines: (?<!\w)(?=\d*[U])([U\d]{2,})(?=[U][L]{2}) -> "\1 ". At a position
     * not after a word character, the run of upper-case letters and digits must end with an
     * upper-case letter followed by two lower-case ones, and hold at least two characters
     * before that letter (a run ending with an upper-case letter has one, which satisfies
     * the look-ahead (?=\d*[U])). */
    const cp_t *t2 = b->p;
    Py_ssize_t m = b->n;
    if (!dateline) { /* no dateline: the text is done */
        CpBuf swap = *out;
        *out = *b;
        *b = swap;
        return 0;
    }
    out->n = 0;
    if (GROW(out->p, out->cap, m + m / 3 + 2) < 0)
        return -1;
    for (Py_ssize_t p = 0; p < m;) {
        cp_t c = t2[p];
        if ((flags_of(c) & (F_UPPER | F_DEC)) && (p == 0 || !IS_WORD(t2[p - 1]))) {
            Py_ssize_t q = p + 1;
            while (q < m && (flags_of(t2[q]) & (F_UPPER | F_DEC)))
                q++;
            if (q - p >= 3 && (flags_of(t2[q - 1]) & F_UPPER) && q + 1 < m &&
                (flags_of(t2[q]) & F_LOWER) && (flags_of(t2[q + 1]) & F_LOWER)) {
                memcpy(out->p + out->n, t2 + p, (size_t)(q - 1 - p) * sizeof(cp_t));
                out->n += q - 1 - p;
                out->p[out->n++] = ' ';
                /* the match ends before t2[q - 1], which starts no other match (the run
                 * from there is one character); scanning goes on after it */
                out->p[out->n++] = t2[q - 1];
                p = q;
                continue;
            }
        }
        out->p[out->n++] = c;
        p++;
    }
    return 0;
}

static int nfc_buffer(Segmenter *seg, CpBuf *b);

/* The first max_chars characters, NFC-normalised as pyvi normalises what it segments: a
 * prefix of an NFC text need not be NFC. */
static int
cut_nfc(Segmenter *seg, CpBuf *out, Py_ssize_t max_chars)
{
    out->n = max_chars;
    return nfc_buffer(seg, out);
}

/* markup.next_cut: the first position from `from` that holds a space or a newline outside
 * every tag ("<" and a letter or "/", then no "<" or newline before the ">" that closes it,
 * up to a tag's longest), or -1: a prefix cut there normalises to the start of the whole
 * text's normalisation. */
#define MAX_TAG 1000
static Py_ssize_t
next_cut(PyObject *s, Py_ssize_t from)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    int kind = PyUnicode_KIND(s);
    const void *data = PyUnicode_DATA(s);
    while (from < n) {
        Py_ssize_t cut = -1;
        for (Py_ssize_t i = from; i < n; i++) {
            Py_UCS4 c = PyUnicode_READ(kind, data, i);
            if (c == ' ' || c == '\n') {
                cut = i;
                break;
            }
        }
        if (cut < 0 || PyUnicode_READ(kind, data, cut) == '\n')
            return cut; /* (no tag holds a newline) */
        Py_ssize_t low = cut - MAX_TAG - 20 > 0 ? cut - MAX_TAG - 20 : 0, opened = -1;
        for (Py_ssize_t i = cut - 1; i >= low; i--) {
            Py_UCS4 c = PyUnicode_READ(kind, data, i);
            if (c == '<')
                opened = i;
            if (c == '<' || c == '>' || c == '\n')
                break;
        }
        Py_UCS4 next = opened >= 0 ? PyUnicode_READ(kind, data, opened + 1) : 0;
        if (!((next >= 'A' && next <= 'Z') || (next >= 'a' && next <= 'z') || next == '/'))
            return cut; /* (no "<" that may open a tag) */
        /* a tag only if a ">" closes it before any "<" or newline, within a tag's length;
         * then on past its end */
        Py_ssize_t limit = opened + MAX_TAG + 21 < n ? opened + MAX_TAG + 21 : n;
        Py_ssize_t end = -1;
        for (Py_ssize_t i = cut; i < limit; i++) {
            Py_UCS4 c = PyUnicode_READ(kind, data, i);
            if (c == '<' || c == '>' || c == '\n') {
                end = c == '>' ? i : -1;
                break;
            }
        }
        if (end < 0)
            return cut;
        from = end + 1;
    }
    return -1;
}

/* normalize(s, max_chars) into w->text (max_chars < 0: no cut). */
int
normalize_prefix(Segmenter *seg, PyObject *s, Py_ssize_t max_chars, Work *w, int sur)
{
    CpBuf *out = &w->text;
    if (max_chars < 0)
        return normalize_full(seg, s, w, out, sur);
    /* (Without a cut the result is NFC already: normalisation only replaces, inserts or
     * removes white space and control characters, or inserts a space before an upper-case
     * letter, and all of those are NFC-stable: they never compose with a neighbour, so NFC
     * treats the pieces between them on their own. The tests check that premise over all of
     * Unicode.) */
    Py_ssize_t margin = 16;
    Py_ssize_t size = max_chars + 4 * margin;
    Py_ssize_t len = PyUnicode_GET_LENGTH(s);
    if (len <= size) {
        if (normalize_full(seg, s, w, out, sur) < 0)
            return -1;
        if (out->n > max_chars)
            return cut_nfc(seg, out, max_chars);
        return 0;
    }
    for (;;) {
        /* Cut only before an ASCII space or newline: NFC of the prefix is then the prefix of
         * NFC; and never inside a tag. */
        Py_ssize_t cut = size < len ? next_cut(s, size) : -1;
        if (cut < 0) {
            if (normalize_full(seg, s, w, out, sur) < 0)
                return -1;
            break;
        }
        PyObject *prefix = PyUnicode_Substring(s, 0, cut);
        if (prefix == NULL)
            return -1;
        int status = normalize_full(seg, prefix, w, out, sur);
        Py_DECREF(prefix);
        if (status < 0)
            return -1;
        if (out->n >= max_chars + margin)
            break;
        size *= 4;
    }
    return out->n > max_chars ? cut_nfc(seg, out, max_chars) : 0;
}

/* _normalize of code points into `out`: 1, or 0 when a character is not NFC-inert or is "&"
 * or "<" (the text then takes the str path, which asks Python for NFC and for references and
 * tags), -1 on failure. */
static int
normalize_full_cp(const cp_t *s, Py_ssize_t n, Work *w, CpBuf *out)
{
    CpBuf *b = &w->tmp;
    int dateline;
    int html;
    if (GROW(b->p, b->cap, n + 1) < 0)
        return -1;
    /* (a "&" or "<" may begin a character reference or tag, which Python reads: the str
     * path) */
    if (!clean_lines(s, PyUnicode_4BYTE_KIND, n, b, 1, &dateline, &html) || html)
        return 0;
    return unglue_datelines(w, out, dateline) < 0 ? -1 : 1;
}

/* normalize_prefix of a text given as code points (decoded from UTF-8) into w->text, in the
 * same steps: 1 when done, 0 when the text takes the str path (a character that is not
 * NFC-inert, such as a lone surrogate), -1 on failure. */
int
normalize_cp(Segmenter *seg, const cp_t *s, Py_ssize_t len, Py_ssize_t max_chars, Work *w)
{
    CpBuf *out = &w->text;
    if (max_chars < 0)
        return normalize_full_cp(s, len, w, out);
    Py_ssize_t margin = 16;
    Py_ssize_t size = max_chars + 4 * margin;
    int status;
    if (len <= size) {
        if ((status = normalize_full_cp(s, len, w, out)) <= 0)
            return status;
    }
    else
        for (;;) {
            Py_ssize_t cut = -1;
            for (Py_ssize_t i = size; i < len; i++)
                if (s[i] == ' ' || s[i] == '\n') {
                    cut = i;
                    break;
                }
            if ((status = normalize_full_cp(s, cut < 0 ? len : cut, w, out)) <= 0)
                return status;
            if (cut < 0 || out->n >= max_chars + margin)
                break;
            size *= 4;
        }
    return out->n > max_chars && cut_nfc(seg, out, max_chars) < 0 ? -1 : 1;
}

/* pyvi NFC-normalises what it segments; so does nlpkit.segmenter.syllabize. */
static COLD int
nfc_buffer(Segmenter *seg, CpBuf *b)
{
    int inert = 1;
    for (Py_ssize_t i = 0; i < b->n && inert; i++)
        inert = INERT(b->p[i]);
    if (inert)
        return 0;
    PyThreadState *held = gil_hold(seg);
    PyObject *s = str_from_cp(b->p, b->n), *t = s ? nfc(seg, s) : NULL;
    int status = 0;
    if (t == NULL)
        status = -1;
    else if (t != s)
        status = cp_from_str(b, t, NULL);
    Py_XDECREF(s);
    Py_XDECREF(t);
    gil_drop(seg, held);
    return status;
}

