/* Syllables (pyvi's regular expression) and the syllable cache: each one's part in the CRF. */

#include "core.h"

/* --- Syllables: pyvi's regular expression, alternative by alternative ---------------- */

static inline int
is_azd(cp_t c)
{
    return (c >= 'A' && c <= 'Z') || c == 0x110; /* [A-ZĐ] */
}

static inline int
is_email_local(cp_t c) /* [a-zA-Z0-9_.+-] */
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '.' || c == '+' || c == '-';
}

static inline int
is_domain(cp_t c) /* [a-zA-Z0-9-] */
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-';
}

static inline int
starts_with(const cp_t *t, Py_ssize_t n, Py_ssize_t p, const char *lit)
{
    for (Py_ssize_t k = 0; lit[k]; k++)
        if (p + k >= n || t[p + k] != (cp_t)(unsigned char)lit[k])
            return 0;
    return 1;
}

typedef struct {
    Py_ssize_t run_lo, run_hi; /* a maximal run of [a-zA-Z0-9_.+-] seen last */
    Py_ssize_t at, at_end;     /* an "@" and where the domain after it ends (-1: none) */
} EmailMemo;

/* (?:[a-zA-Z0-9-]+\.)+[a-zA-Z0-9-]+ at p: greedy groups, then a final label; when the
 * final label is empty the regex gives back the last group, whose label becomes the final
 * one. */
static Py_ssize_t
domain_end(const cp_t *t, Py_ssize_t n, Py_ssize_t p)
{
    Py_ssize_t groups = 0, last_label_end = -1, i = p;
    for (;;) {
        Py_ssize_t j = i;
        while (j < n && is_domain(t[j]))
            j++;
        if (j == i)
            break;
        if (j < n && t[j] == '.') {
            groups++;
            last_label_end = j;
            i = j + 1;
            continue;
        }
        return groups >= 1 ? j : -1;
    }
    return groups >= 2 ? last_label_end : -1;
}

/* The end of pyvi's syllable at p, or -1 if none starts there (white space but "\n"). */
static Py_ssize_t
match_at(const cp_t *t, Py_ssize_t n, Py_ssize_t p, EmailMemo *memo)
{
    cp_t c = t[p];
    Py_ssize_t q;
    uint8_t f = flags_of(c);
    /* Most syllables are a run of word characters that no earlier alternative can take: not
     * starting with a digit (a number), and not followed by ":" (a web address), "@", "+",
     * "-" (an e-mail address; its local part holds only ASCII and would end at the run's
     * first other character, which is no "@") or "." (also "[A-ZĐ]+\." and "Tp.", "Mr." ...:
     * a run of [A-ZĐ] that ends inside the word is followed by a word character, and each of
     * those titles is a whole run of word characters, then "."). For those, \w+ is the
     * answer. */
    if ((f & F_WORD) && !(f & F_DEC)) {
        q = p + 1;
        while (q < n && IS_WORD(t[q]))
            q++;
        if (q == n)
            return q;
        cp_t d = t[q];
        if (d != ':' && d != '@' && d != '.' && d != '+' && d != '-')
            return q;
    }
    /* [A-ZĐ]+\. */
    if (is_azd(c)) {
        q = p + 1;
        while (q < n && is_azd(t[q]))
            q++;
        if (q < n && t[q] == '.')
            return q + 1;
    }
    /* Tp\. Mr\. Mrs\. Ms\. Dr\. ThS\. */
    if (c == 'T' || c == 'M' || c == 'D') {
        static const char *lits[] = {"Tp.", "Mr.", "Mrs.", "Ms.", "Dr.", "ThS."};
        for (int k = 0; k < 6; k++)
            if (starts_with(t, n, p, lits[k]))
                return p + (Py_ssize_t)strlen(lits[k]);
    }
    /* ==> -> \.\.\. >> \n */
    if (c == '=' && starts_with(t, n, p, "==>"))
        return p + 3;
    if (c == '-' && starts_with(t, n, p, "->"))
        return p + 2;
    if (c == '.' && starts_with(t, n, p, "..."))
        return p + 3;
    if (c == '>' && starts_with(t, n, p, ">>"))
        return p + 2;
    if (c == '\n')
        return p + 1;
    /* \w+://[^\s]+ */
    if (f & F_WORD) {
        q = p + 1;
        while (q < n && IS_WORD(t[q]))
            q++;
        if (q + 3 < n && t[q] == ':' && t[q + 1] == '/' && t[q + 2] == '/' && !IS_SPACE(t[q + 3])) {
            q += 4;
            while (q < n && !IS_SPACE(t[q]))
                q++;
            return q;
        }
    }
    /* [a-zA-Z0-9_.+-]+@(?:[a-zA-Z0-9-]+\.)+[a-zA-Z0-9-]+: the local part is the rest of the
     * run of its characters, which must end at an "@"; both are remembered, so that a long
     * run costs linear time (Python's regex engine rescans it at every position). */
    if (is_email_local(c)) {
        if (!(p >= memo->run_lo && p < memo->run_hi)) {
            q = p + 1;
            while (q < n && is_email_local(t[q]))
                q++;
            memo->run_lo = p;
            memo->run_hi = q;
        }
        q = memo->run_hi;
        if (q < n && t[q] == '@') {
            if (memo->at != q) {
                memo->at = q;
                memo->at_end = domain_end(t, n, q + 1);
            }
            if (memo->at_end > 0)
                return memo->at_end;
        }
    }
    /* \d+(?:[\.,_]\d+)+ */
    if (f & F_DEC) {
        q = p + 1;
        while (q < n && IS_DEC(t[q]))
            q++;
        int groups = 0;
        while (q + 1 < n && (t[q] == '.' || t[q] == ',' || t[q] == '_') && IS_DEC(t[q + 1])) {
            q += 2;
            while (q < n && IS_DEC(t[q]))
                q++;
            groups++;
        }
        if (groups)
            return q;
    }
    /* [^\w\s] */
    if (!(f & (F_WORD | F_SPACE)))
        return p + 1;
    /* \w+ */
    if (f & F_WORD) {
        q = p + 1;
        while (q < n && IS_WORD(t[q]))
            q++;
        return q;
    }
    return -1;
}

int
syllabize(const cp_t *t, Py_ssize_t n, Work *w)
{
    EmailMemo memo = {-1, -1, -1, -1};
    w->nsyl = 0;
    for (Py_ssize_t p = 0; p < n;) {
        Py_ssize_t e = match_at(t, n, p, &memo);
        if (e < 0) {
            p++;
            continue;
        }
        if (w->nsyl == w->syl_cap) {
            Py_ssize_t cap = w->syl_cap; /* (both arrays grow alike) */
            if (GROW(w->syl_start, cap, w->nsyl + 1) < 0 ||
                GROW(w->syl_len, w->syl_cap, w->nsyl + 1) < 0)
                return -1;
        }
        w->syl_start[w->nsyl] = p;
        w->syl_len[w->nsyl] = (int32_t)(e - p);
        w->nsyl++;
        p = e;
    }
    return 0;
}

/* --- Cache entries (nlpkit.segmenter._Model.row) ------------------------------------- */

static int
is_punctuation_substring(const cp_t *s, Py_ssize_t n)
{
    /* `syllable in string.punctuation`: a substring test */
    static const char punct[] = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
    Py_ssize_t m = (Py_ssize_t)sizeof(punct) - 1;
    for (Py_ssize_t i = 0; i + n <= m; i++) {
        Py_ssize_t k = 0;
        while (k < n && s[k] == (cp_t)(unsigned char)punct[i + k])
            k++;
        if (k == n)
            return 1;
    }
    return 0;
}

static int
call_bool(PyObject *obj, PyObject *name)
{
    PyObject *r = PyObject_CallMethodNoArgs(obj, name);
    if (r == NULL)
        return -1;
    int v = PyObject_IsTrue(r);
    Py_DECREF(r);
    return v;
}

/* What compute_entry and fast_entry share: the entry of syllable s[0:n] into *e from its
 * lower-cased form (its UTF-8, utf8[0:size]; its code points appended to lowers from `at`)
 * and str's tests of the syllable and of its first character. */
static void
fill_entry(Segmenter *seg, const cp_t *s, Py_ssize_t n, const char *utf8, Py_ssize_t size,
           Py_ssize_t at, int upper, int title, int digit, int first_digit, int first_title,
           Entry *e, const CpBuf *lowers)
{
    /* pycrfsuite passes attribute names to crfsuite as C strings: a NUL ends them. */
    Py_ssize_t klen = (Py_ssize_t)strnlen(utf8, (size_t)size);
    Py_ssize_t a = table_find(&seg->lower_attrs, utf8, klen, hash_units(utf8, klen, 1));
    static const LowerWeights none = {{0.0, 0.0}, {0.0, 0.0}, {0.0, 0.0}};
    const LowerWeights *lw = a >= 0 ? &seg->lower_w[a] : &none;
    for (int l = 0; l < 2; l++) {
        /* The state score starts at 0.0 and gets each present attribute's weight in the
         * order of pyvi's feature dict; an absent attribute adds 0.0. */
        double own = 0.0 + seg->bias[l];
        own = own + lw->own[l];
        if (upper)
            own = own + seg->isupper[l];
        if (title)
            own = own + seg->istitle[l];
        if (digit)
            own = own + seg->isdigit[l];
        e->own[l] = own;
        e->prev[l] = lw->prev[l];
        e->next[l] = lw->next[l];
    }
    Py_ssize_t v = table_find(&seg->vocab, utf8, size, hash_units(utf8, size, 1));
    e->vid = v >= 0 ? (int32_t)v : seg->n_vocab;
    int joinable = !is_punctuation_substring(s, n) && !first_digit;
    e->flags = (uint8_t)((joinable ? OK_TO_JOIN : 0) | (first_title ? TITLE_FIRST : 0) |
                         (title ? IS_TITLE : 0) | (upper ? IS_UPPER : 0));
    e->lower = (int32_t)at;
    e->lower_len = (int32_t)(lowers->n - at);
    int letter = 0, space = 0, blank = 1;
    for (Py_ssize_t i = 0; i < e->lower_len; i++) {
        uint8_t f = flags_of(lowers->p[e->lower + i]);
        letter |= (f & F_LETTER) != 0;
        space |= (f & F_SPACE) != 0;
        blank &= (f & F_SPACE) != 0;
    }
    e->lflags = (uint8_t)((letter ? LOWER_LETTER : 0) | (space ? LOWER_SPACE : 0) |
                          (blank ? LOWER_BLANK : 0));
}

/* Compute the entry of syllable s[0:n] into *e (its lower-cased form appended to lowers).
 * Calls Python; touches neither the cache nor the per-call buffers of other threads. */
static COLD int
compute_entry(Segmenter *seg, const cp_t *s, Py_ssize_t n, Entry *e, CpBuf *lowers)
{
    int status = -1;
    PyObject *syl = str_from_cp(s, n), *lower = NULL, *first = NULL;
    if (syl == NULL)
        return -1;
    lower = PyObject_CallMethodNoArgs(syl, seg->s_lower);
    if (lower == NULL)
        goto done;
    Py_ssize_t size;
    /* pycrfsuite encodes feature values (fails on lone surrogates); the caller hands texts
     * that hold them to the Python path, which fails as pyvi does. */
    const char *utf8 = PyUnicode_AsUTF8AndSize(lower, &size);
    if (utf8 == NULL)
        goto done;
    int upper = call_bool(syl, seg->s_isupper);
    int title = call_bool(syl, seg->s_istitle);
    int digit = call_bool(syl, seg->s_isdigit);
    first = PyUnicode_Substring(syl, 0, 1);
    if (upper < 0 || title < 0 || digit < 0 || first == NULL)
        goto done;
    int first_digit = call_bool(first, seg->s_isdigit);
    int first_title = call_bool(first, seg->s_istitle);
    if (first_digit < 0 || first_title < 0)
        goto done;
    if (lowers->n + PyUnicode_GET_LENGTH(lower) > INT32_MAX) {
        PyErr_SetString(PyExc_OverflowError, "syllables too long");
        goto done;
    }
    Py_ssize_t at = lowers->n;
    if (cp_append_str(lowers, lower) < 0)
        goto done;
    fill_entry(seg, s, n, utf8, size, at, upper, title, digit, first_digit, first_title, e,
               lowers);
    status = 0;
done:
    Py_DECREF(syl);
    Py_XDECREF(lower);
    Py_XDECREF(first);
    return status;
}

/* The longest syllable fast_entry takes (longer ones are rare: numbers, links). */
#define FAST_SYLLABLE 64

/* compute_entry without Python, for a syllable whose every character is in the case table:
 * str.lower, isupper, istitle and isdigit by CPython's own rules (unicode_isupper_impl and
 * the others: one character is tested alone; a string of several, character by character).
 * 1: done; 0: a syllable it does not take (compute_entry then); -1: no memory. */
static int
fast_entry(Segmenter *seg, const cp_t *s, Py_ssize_t n, Entry *e, CpBuf *lowers)
{
    if (n > FAST_SYLLABLE || lowers->n + n > INT32_MAX)
        return 0;
    cp_t low[FAST_SYLLABLE];
    char utf8[4 * FAST_SYLLABLE];
    Py_ssize_t size = 0;
    int upper_cased = 0, not_upper = 0, title_cased = 0, not_title = 0, digit = 1;
    int previous_cased = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        cp_t c = s[i];
        if (c >= CASE_LIMIT || !(case_flags[c] & C_KNOWN))
            return 0;
        uint8_t f = case_flags[c];
        cp_t l = low[i] = case_lower[c];
        if (l < 0x80)
            utf8[size++] = (char)l;
        else if (l < 0x800) {
            utf8[size++] = (char)(0xc0 | l >> 6);
            utf8[size++] = (char)(0x80 | (l & 0x3f));
        }
        else { /* (below CASE_LIMIT: three bytes at most, and no surrogate) */
            utf8[size++] = (char)(0xe0 | l >> 12);
            utf8[size++] = (char)(0x80 | (l >> 6 & 0x3f));
            utf8[size++] = (char)(0x80 | (l & 0x3f));
        }
        /* str.isupper */
        if (f & (C_LOWER | C_TITLE))
            not_upper = 1;
        else if (f & C_UPPER)
            upper_cased = 1;
        /* str.istitle */
        if (f & (C_UPPER | C_TITLE)) {
            not_title |= previous_cased;
            previous_cased = title_cased = 1;
        }
        else if (f & C_LOWER) {
            not_title |= !previous_cased;
            previous_cased = title_cased = 1;
        }
        else
            previous_cased = 0;
        digit &= (f & C_DIGIT) != 0;
    }
    uint8_t f0 = case_flags[s[0]];
    int first_title = (f0 & (C_UPPER | C_TITLE)) != 0, first_digit = (f0 & C_DIGIT) != 0;
    int upper = n == 1 ? (f0 & C_UPPER) != 0 : upper_cased && !not_upper;
    int title = n == 1 ? first_title : title_cased && !not_title;
    Py_ssize_t at = lowers->n;
    if (cp_extend(lowers, low, n) < 0)
        return -1;
    fill_entry(seg, s, n, utf8, size, at, upper, title, digit && n > 0, first_digit,
               first_title, e, lowers);
    return 1;
}

/* A syllable's entry both ways, for the tests: fast_entry's (None where it does not take the
 * syllable) and compute_entry's, each as (own, prev, next, vid, lower, flags, lflags). */
static PyObject *
entry_tuple(const Entry *e, const CpBuf *lowers)
{
    PyObject *lower = str_from_cp(lowers->p + e->lower, e->lower_len);
    if (lower == NULL)
        return NULL;
    return Py_BuildValue("(dd)(dd)(dd)iNii", e->own[0], e->own[1], e->prev[0], e->prev[1],
                         e->next[0], e->next[1], (int)e->vid, lower, (int)e->flags,
                         (int)e->lflags);
}

PyObject *
entry_both_ways(Segmenter *seg, const cp_t *s, Py_ssize_t n)
{
    CpBuf fast_lowers = {0}, slow_lowers = {0};
    Entry fast, slow;
    PyObject *a = NULL, *b = NULL, *result = NULL;
    int got = n > 0 ? fast_entry(seg, s, n, &fast, &fast_lowers) : 0;
    if (got < 0)
        goto done;
    a = got ? entry_tuple(&fast, &fast_lowers) : Py_NewRef(Py_None);
    if (a == NULL || compute_entry(seg, s, n, &slow, &slow_lowers) < 0)
        goto done;
    b = entry_tuple(&slow, &slow_lowers);
    if (b != NULL)
        result = PyTuple_Pack(2, a, b);
done:
    Py_XDECREF(a);
    Py_XDECREF(b);
    PyMem_RawFree(fast_lowers.p);
    PyMem_RawFree(slow_lowers.p);
    return result;
}

/* --- The cache ----------------------------------------------------------------------- */

/* The cache entries of the text's syllables into w->entry (-1 for a missing one); whether
 * one is missing. The hashes first, each slot asked for, then the probes: their misses
 * overlap; then the entries found are asked for, for the CRF. */
static int
find_entries(const Segmenter *seg, Work *w)
{
    const cp_t *t = w->text.p;
    Py_ssize_t n = w->nsyl, size = w->text.n, mask = seg->cache.nslots - 1;
    uint64_t *h = w->keys, *lo = w->keys + n, *hi = w->keys + 2 * n;
    int missing = 0;
    if (seg->cache.nslots == 0) {
        for (Py_ssize_t i = 0; i < n; i++)
            w->entry[i] = -1;
        return n > 0;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t at = w->syl_start[i], len = w->syl_len[i];
        if (short_key(t + at, len, size - at, &lo[i], &hi[i])) {
            h[i] = short_hash(lo[i], hi[i], len);
            PREFETCH(short_slot(&seg->short_cache, h[i]));
        }
        else {
            hi[i] = NOT_SHORT;
            h[i] = hash_units(t + at, len, 4);
            PREFETCH(&seg->cache.slots[h[i] & (uint64_t)mask]);
        }
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t len = w->syl_len[i];
        Py_ssize_t e = hi[i] != NOT_SHORT
                           ? short_find(&seg->short_cache, lo[i], hi[i], len, h[i])
                           : table_find(&seg->cache, t + w->syl_start[i], len, h[i]);
        w->entry[i] = (int32_t)e;
        missing |= e < 0;
        if (e >= 0)
            PREFETCH(&seg->entries[e]);
    }
    return missing;
}

static COLD int
cache_insert(Segmenter *seg, Work *w, Py_ssize_t pe)
{
    const Table *pk = &w->pending_keys;
    const cp_t *key = table_key(pk, pe);
    Py_ssize_t len = pk->recs[pe].length;
    int added;
    Py_ssize_t e = table_add(&seg->cache, key, len, pk->hashes[pe], &added);
    if (e < 0)
        return -1;
    if (!added)
        return 0; /* another thread got there first: the same entry */
    uint64_t lo, hi;
    if (short_key(key, len, len, &lo, &hi) && short_add(&seg->short_cache, lo, hi, len, e) < 0)
        return -1;
    if (grow_aligned(&seg->entries_mem, (void **)&seg->entries, &seg->entries_cap, e + 1,
                     sizeof(Entry)) < 0)
        return -1;
    Entry *dst = &seg->entries[e];
    *dst = w->pending[pe];
    if (seg->lowers.n + dst->lower_len > INT32_MAX) {
        PyErr_SetString(PyExc_OverflowError, "syllables too long");
        return -1;
    }
    dst->lower = (int32_t)seg->lowers.n;
    return cp_extend(&seg->lowers, w->pending_lowers.p + w->pending[pe].lower,
                     w->pending[pe].lower_len);
}

static int compute_missing(Segmenter *seg, Work *w, int python);

/* Find (adding what is missing) the cache entry of every syllable of the text (w->text) into
 * w->entry. On success no Python code has run since the entries were read, so they stay
 * valid until the caller next calls Python. */
int
lookup_syllables(Segmenter *seg, Work *w)
{
    if (GROW(w->entry, w->entry_cap, w->nsyl + 1) < 0 ||
        GROW(w->keys, w->keys_cap, 3 * w->nsyl + 2) < 0)
        return -1;
    int everything = seg->cache.n > seg->limit || seg->lowers.n > (1 << 30);
    if (!everything && !find_entries(seg, w))
        return 0;
    /* Syllables not seen before: computed here where the case table knows each of their
     * characters (without the interpreter's lock, which a stream's other threads may be
     * holding), else by Python's own str methods. */
    int status = compute_missing(seg, w, 0);
    if (status == NEEDS_PYTHON) {
        PyThreadState *t = gil_hold(seg);
        status = compute_missing(seg, w, 1);
        gil_drop(seg, t);
    }
    return status;
}

/* ``python`` 0: NEEDS_PYTHON for a syllable fast_entry does not take, or for an error only
 * Python can raise; without the interpreter's lock. 1: with it, compute_entry for those. */
static COLD int
compute_missing(Segmenter *seg, Work *w, int python)
{
    const cp_t *t = w->text.p;
    Py_ssize_t n = w->nsyl;
    for (int round = 0;; round++) {
        /* the cache starts over when full: then every syllable of the text is computed */
        int everything = seg->cache.n > seg->limit || seg->lowers.n > (1 << 30);
        /* (round 0: lookup_syllables has just looked, and no other call has changed the
         * cache since: this one holds the segmenter's lock) */
        if (round && !everything && !find_entries(seg, w))
            return 0;
        if (round > 100) {
            if (!python)
                return NEEDS_PYTHON;
            PyErr_SetString(PyExc_RuntimeError, "syllable cache keeps starting over");
            return -1;
        }
        /* Compute the missing entries into this call's buffers (calls Python). */
        table_clear(&w->pending_keys);
        w->pending_lowers.n = 0;
        for (Py_ssize_t i = 0; i < n; i++) {
            if (!everything && w->entry[i] >= 0)
                continue;
            const cp_t *s = t + w->syl_start[i];
            Py_ssize_t len = w->syl_len[i];
            int added;
            Py_ssize_t pe = table_add(&w->pending_keys, s, len, hash_units(s, len, 4), &added);
            if (pe < 0)
                return -1;
            if (!added)
                continue;
            if (GROW(w->pending, w->pending_cap, pe + 1) < 0)
                return -1;
            int got = fast_entry(seg, s, len, &w->pending[pe], &w->pending_lowers);
            if (got == 0 && !python)
                return NEEDS_PYTHON;
            if (got < 0 ||
                (got == 0 && compute_entry(seg, s, len, &w->pending[pe], &w->pending_lowers) < 0))
                return -1;
        }
        /* Enter them (no Python from here on). */
        if (!python && seg->lowers.n + w->pending_lowers.n > INT32_MAX)
            return NEEDS_PYTHON; /* (cache_insert raises; unreachable below a gigabyte's text) */
        if (seg->cache.n > seg->limit || seg->lowers.n > (1 << 30)) {
            if (!everything)
                continue; /* another thread filled the cache meanwhile: compute everything */
            table_clear(&seg->cache);
            short_clear(&seg->short_cache);
            seg->lowers.n = 0;
            seg->generation++;
        }
        for (Py_ssize_t pe = 0; pe < w->pending_keys.n; pe++)
            if (cache_insert(seg, w, pe) < 0)
                return -1;
        if (!find_entries(seg, w))
            return 0;
        /* another thread started the cache over while this one called Python: again */
    }
}

/* The syllables of the normalised text in w and their cache entries: DONE, NEEDS_PYTHON (no
 * syllable: pyvi returns such a text as it is) or FAILED. */
static inline int
syllables_of_text(Segmenter *seg, Work *w)
{
    if (syllabize(w->text.p, w->text.n, w) < 0)
        return FAILED;
    if (w->nsyl == 0)
        return NEEDS_PYTHON;
    return lookup_syllables(seg, w) < 0 ? FAILED : DONE;
}

/* Normalise (text.normalize with max_chars), then syllables and their cache entries.
 * Returns DONE, INVALID (not a str, or nothing but white space and control characters, or
 * references to them),
 * NEEDS_PYTHON (no syllables) or FAILED. */
int
prepare_syllables(Segmenter *seg, PyObject *text, Py_ssize_t max_chars, Work *w)
{
    if (!PyUnicode_Check(text))
        return INVALID;
    /* A text is read from start to end, and it is rarely in the cache (a batch's texts are
     * many): the lines of its first 2 KiB are asked for at once (the processor's own
     * prefetching follows a longer one). */
    const char *data = PyUnicode_DATA(text);
    Py_ssize_t bytes = PyUnicode_GET_LENGTH(text) * PyUnicode_KIND(text);
    for (Py_ssize_t b = 0; b < bytes && b < 2048; b += 64)
        PREFETCH(data + b);
    if (!has_content(text))
        return INVALID;
    if (normalize_prefix(seg, text, max_chars, w, 1) < 0)
        return FAILED;
    if (w->text.n == 0 && max_chars != 0)
        return INVALID; /* nothing once cleaned: HTML references to white space ("&nbsp;") */
    return syllables_of_text(seg, w);
}


/* prepare_syllables of a text given as code points (decoded from UTF-8); NEEDS_STR when only
 * the str path can (a character that is not NFC-inert, a lone surrogate among them). */
int
prepare_syllables_cp(Segmenter *seg, const cp_t *t, Py_ssize_t n, Py_ssize_t max_chars, Work *w)
{
    int content = 0;
    for (Py_ssize_t i = 0; i < n && !content; i++)
        content = !(flags_of(t[i]) & (F_SPACE | F_CTRL));
    if (!content)
        return INVALID;
    int status = normalize_cp(seg, t, n, max_chars, w);
    if (status <= 0)
        return status < 0 ? FAILED : NEEDS_STR;
    return syllables_of_text(seg, w);
}
