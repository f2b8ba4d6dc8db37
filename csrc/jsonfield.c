/* The text and title of a JSON-object line (nlpkit.batch's records), read without making a
 * Python object: found in the line's bytes and decoded to the code points the scorer reads.
 *
 * Exact or nothing: a line is taken only when orjson reads it as an object and its fields are
 * plain (the whole line checked: syntax, UTF-8, escapes, nesting; no raw U+2028 or U+2029),
 * and then the text is the one orjson gives, code point for code point. For anything unusual
 * (a key with an escape, a number orjson might refuse or read otherwise, a title that is not a
 * string or null, nesting past JF_DEPTH, a lone surrogate escape) the line is left to orjson. */

#include "core.h"

enum { JF_DEPTH = 64, JF_NUMBER = 40 };

#define WS(c) ((c) == ' ' || (c) == '\t' || (c) == '\r' || (c) == '\n')

static const unsigned char *
skip_ws(const unsigned char *p, const unsigned char *end)
{
    while (p < end && WS(*p))
        p++;
    return p;
}

static int
hex4(const unsigned char *p, cp_t *out)
{
    cp_t v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= c - '0';
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
            v |= (c | 0x20) - 'a' + 10;
        else
            return -1;
    }
    *out = v;
    return 0;
}

/* The length of the UTF-8 sequence at p (its first byte >= 0x80), as strictly as Python's
 * decoder; 0 when it is not UTF-8. */
static inline int
utf8_sequence(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    if (c >= 0xc2 && c < 0xe0)
        return end - p >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
    if (c >= 0xe0 && c < 0xf0) {
        if (end - p < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
            return 0;
        if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0)) /* overlong, surrogate */
            return 0;
        return 3;
    }
    if (c >= 0xf0 && c < 0xf5) {
        if (end - p < 4 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 ||
            (p[3] & 0xc0) != 0x80)
            return 0;
        if ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90)) /* overlong, > U+10FFFF */
            return 0;
        return 4;
    }
    return 0;
}

/* The first quote, backslash or control character at or after p (end if none). */
static inline const unsigned char *
find_special(const unsigned char *p, const unsigned char *end)
{
#ifdef HAVE_SSE2_64
    const __m128i quote = _mm_set1_epi8('"'), slash = _mm_set1_epi8('\\'),
                  ctrl = _mm_set1_epi8(0x1f);
    for (; end - p >= 16; p += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)p);
        __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, slash)),
                                   _mm_cmpeq_epi8(_mm_min_epu8(x, ctrl), x)); /* x <= 0x1f */
        int m = _mm_movemask_epi8(hit);
        if (m)
            return p + __builtin_ctz((unsigned)m);
    }
#endif
    while (p < end && *p != '"' && *p != '\\' && *p >= 0x20)
        p++;
    return p;
}

/* U+2028 and U+2029 are legal in JSON strings but end lines for many readers: a line holding
 * one is left to orjson, and written anew with them escaped (nlpkit.batch). */
#define LINE_SEPARATOR(p, k) ((k) == 3 && (p)[0] == 0xe2 && (p)[1] == 0x80 && ((p)[2] | 1) == 0xa9)

/* Whether p[0:end] is UTF-8, as strictly as Python's decoder, and holds no U+2028 or U+2029. */
static int
is_utf8(const unsigned char *p, const unsigned char *end)
{
    while (p < end) {
        if (*p < 0x80) {
            p++;
            continue;
        }
        int k = utf8_sequence(p, end);
        if (k == 0 || LINE_SEPARATOR(p, k))
            return 0;
        p += k;
    }
    return 1;
}

/* A string from just after its opening quote: the position after its closing quote, or NULL
 * (not JSON, or an escape left to orjson). *escaped: whether it holds a backslash. With
 * `utf8` 0, its bytes are not checked as UTF-8 (json_string_cp does it as it decodes). */
static const unsigned char *
scan_string(const unsigned char *p, const unsigned char *end, int *escaped, int utf8)
{
    *escaped = 0;
    for (;;) {
        const unsigned char *q = find_special(p, end);
        if (utf8 && !is_utf8(p, q))
            return NULL;
        p = q;
        if (p >= end || *p < 0x20)
            return NULL; /* no closing quote; a control character JSON wants escaped */
        if (*p == '"')
            return p + 1;
        *escaped = 1;
        if (end - p < 2)
            return NULL;
        switch (p[1]) {
        case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
            p += 2;
            continue;
        case 'u': {
            cp_t u, low;
            if (end - p < 6 || hex4(p + 2, &u) < 0)
                return NULL;
            p += 6;
            if (u >= 0xdc00 && u <= 0xdfff)
                return NULL; /* a lone low surrogate */
            if (u >= 0xd800 && u <= 0xdbff) { /* a pair, or refused */
                if (end - p < 6 || p[0] != '\\' || p[1] != 'u' || hex4(p + 2, &low) < 0 ||
                    low < 0xdc00 || low > 0xdfff)
                    return NULL;
                p += 6;
            }
            continue;
        }
        default:
            return NULL;
        }
    }
}

/* A number as JSON writes it, and as orjson reads it the same way as every other reader: at
 * most JF_NUMBER characters, an exponent of at most two digits, an integer of at most 18
 * digits (beyond, orjson reads a float or refuses). The position after it, or NULL. */
static const unsigned char *
scan_number(const unsigned char *p, const unsigned char *end)
{
    const unsigned char *start = p;
    int fraction = 0;
    if (p < end && *p == '-')
        p++;
    if (p >= end)
        return NULL;
    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    else
        return NULL;
    Py_ssize_t digits = p - start - (*start == '-');
    if (p < end && *p == '.') {
        fraction = 1;
        const unsigned char *q = ++p;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
        if (p == q)
            return NULL;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        fraction = 1;
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        const unsigned char *q = p;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
        if (p == q || p - q > 2)
            return NULL;
    }
    if (p - start > JF_NUMBER || (!fraction && digits > 18))
        return NULL;
    return p;
}

static const unsigned char *scan_value(const unsigned char *p, const unsigned char *end, int depth);

/* An object or array from just after its opening bracket. */
static const unsigned char *
scan_container(const unsigned char *p, const unsigned char *end, int depth, int object)
{
    if (depth > JF_DEPTH)
        return NULL;
    unsigned char close = object ? '}' : ']';
    p = skip_ws(p, end);
    if (p < end && *p == close)
        return p + 1;
    for (;;) {
        if (object) {
            int escaped;
            if (p >= end || *p != '"' || !(p = scan_string(p + 1, end, &escaped, 1)))
                return NULL;
            p = skip_ws(p, end);
            if (p >= end || *p != ':')
                return NULL;
            p = skip_ws(p + 1, end);
        }
        if (!(p = scan_value(p, end, depth + 1)))
            return NULL;
        p = skip_ws(p, end);
        if (p >= end)
            return NULL;
        if (*p == close)
            return p + 1;
        if (*p != ',')
            return NULL;
        p = skip_ws(p + 1, end);
    }
}

static const unsigned char *
literal(const unsigned char *p, const unsigned char *end, const char *word, size_t n)
{
    return (size_t)(end - p) >= n && memcmp(p, word, n) == 0 ? p + n : NULL;
}

static const unsigned char *
scan_value(const unsigned char *p, const unsigned char *end, int depth)
{
    if (p >= end)
        return NULL;
    int escaped;
    switch (*p) {
    case '"':
        return scan_string(p + 1, end, &escaped, 1);
    case '{':
        return scan_container(p + 1, end, depth, 1);
    case '[':
        return scan_container(p + 1, end, depth, 0);
    case 't':
        return literal(p, end, "true", 4);
    case 'f':
        return literal(p, end, "false", 5);
    case 'n':
        return literal(p, end, "null", 4);
    default:
        return scan_number(p, end);
    }
}

static int
key_is(const unsigned char *k, Py_ssize_t n, const JsonKey *key)
{
    return key->n == n && memcmp(key->s, k, (size_t)n) == 0;
}

/* Whether the line s[0:n] (without its line end) is taken: 1 with where its text and title
 * are in *f (the last of each, as orjson keeps the last of a key given twice), or 0 for a line
 * left to orjson. The text's and title's bytes are checked as UTF-8 by json_string_cp, as it
 * decodes them; every other string here. */
int
json_fields(const unsigned char *s, Py_ssize_t n, const JsonKeys *keys, JsonFields *f)
{
    const unsigned char *end = s + n, *p = skip_ws(s, end);
    f->text = f->title = NULL;
    f->text_end = f->title_end = NULL;
    f->text_escaped = f->title_escaped = 0;
    int text = 0, title = 0; /* the last occurrence: 0 absent, 1 a string, 2 null, 3 other */
    if (p >= end || *p != '{')
        return 0;
    p = skip_ws(p + 1, end);
    if (p < end && *p == '}')
        return 0; /* {} has no text */
    for (;;) {
        int escaped;
        if (p >= end || *p != '"')
            return 0;
        const unsigned char *k = p + 1;
        if (!(p = scan_string(k, end, &escaped, 1)) || escaped)
            return 0; /* (a key with an escape is compared by orjson's reading) */
        Py_ssize_t klen = p - 1 - k;
        for (int i = 0; i < keys->n_reserved; i++)
            if (key_is(k, klen, &keys->reserved[i]))
                return 0;
        int which = key_is(k, klen, &keys->text) ? 1 : key_is(k, klen, &keys->title) ? 2 : 0;
        p = skip_ws(p, end);
        if (p >= end || *p != ':')
            return 0;
        p = skip_ws(p + 1, end);
        /* A text or title given again: the string given before, which json_string_cp will
         * not decode, is checked as every other string is (orjson refuses a line with bytes
         * that are not UTF-8 anywhere). */
        if ((which == 1 && text == 1 && !is_utf8(f->text, f->text_end)) ||
            (which == 2 && title == 1 && !is_utf8(f->title, f->title_end)))
            return 0;
        if (which && *p == '"') { /* the text or title: where its string is */
            int esc;
            const unsigned char *v = p + 1;
            if (!(p = scan_string(v, end, &esc, 0)))
                return 0;
            if (which == 1)
                text = 1, f->text = v, f->text_end = p - 1, f->text_escaped = esc;
            else
                title = 1, f->title = v, f->title_end = p - 1, f->title_escaped = esc;
        }
        else {
            int kind = p < end && *p == 'n' ? 2 : 3;
            if (!(p = scan_value(p, end, 1)))
                return 0;
            if (which == 1)
                text = kind;
            else if (which == 2)
                title = kind;
        }
        p = skip_ws(p, end);
        if (p >= end)
            return 0;
        if (*p == '}') {
            f->close = p;
            break;
        }
        if (*p != ',')
            return 0;
        p = skip_ws(p + 1, end);
    }
    if (skip_ws(f->close + 1, end) != end)
        return 0;
    /* The text a string; the title a string, null or absent (anything else: orjson's reading
     * and the caller's error). */
    if (text != 1 || title == 3)
        return 0;
    if (title != 1)
        f->title = f->title_end = NULL;
    return 1;
}

/* An escape at p (checked by scan_string) into *c; the bytes it takes. */
static int
escape(const unsigned char *p, cp_t *c)
{
    switch (p[1]) {
    case 'b': *c = '\b'; return 2;
    case 'f': *c = '\f'; return 2;
    case 'n': *c = '\n'; return 2;
    case 'r': *c = '\r'; return 2;
    case 't': *c = '\t'; return 2;
    case 'u':
        hex4(p + 2, c);
        if (*c >= 0xd800 && *c <= 0xdbff) { /* (checked: a low surrogate follows) */
            cp_t low = 0xdc00; /* set by hex4: the line was checked before */
            hex4(p + 8, &low);
            *c = 0x10000 + ((*c - 0xd800) << 10) + (low - 0xdc00);
            return 12;
        }
        return 6;
    default: *c = p[1]; return 2; /* " \ / */
    }
}

/* The code points of a string json_fields found (its bytes between the quotes) into out,
 * which has room for end - p of them: the end of what was written, or NULL when its bytes are
 * not UTF-8 (which json_fields left to this), as strictly as Python's decoder, or hold a raw
 * U+2028 or U+2029 (LINE_SEPARATOR). */
cp_t *
json_string_cp(const unsigned char *p, const unsigned char *end, int escaped, cp_t *out)
{
    while (p < end) {
        cp_t c = *p;
        if (c < 0x80) {
            if (c == '\\' && escaped)
                p += escape(p, &c);
            else
                p++;
            *out++ = c;
        }
        else if (c < 0xe0) { /* (decoded and checked in one step) */
            if (c < 0xc2 || end - p < 2 || (p[1] & 0xc0) != 0x80)
                return NULL;
            *out++ = (c & 0x1f) << 6 | (p[1] & 0x3f);
            p += 2;
        }
        else if (c < 0xf0) {
            if (end - p < 3 || ((p[1] & 0xc0) != 0x80) | ((p[2] & 0xc0) != 0x80))
                return NULL;
            c = (c & 0x0f) << 12 | (cp_t)(p[1] & 0x3f) << 6 | (p[2] & 0x3f);
            if (c < 0x800 || (c >= 0xd800 && c <= 0xdfff) || c == 0x2028 || c == 0x2029)
                return NULL;
            *out++ = c;
            p += 3;
        }
        else {
            if (utf8_sequence(p, end) != 4)
                return NULL;
            *out++ = (c & 0x07) << 18 | (cp_t)(p[1] & 0x3f) << 12 | (cp_t)(p[2] & 0x3f) << 6 |
                     (p[3] & 0x3f);
            p += 4;
        }
    }
    return out;
}
