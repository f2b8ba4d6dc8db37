/* A model's scores: its tables, a text's terms, their sorting, TF-IDF weights, linear scores. */

#include "core.h"

/* ---------------------------------------------------------------------------------------
 * The Scorer: one model's terms, idf and linear weights
 * ------------------------------------------------------------------------------------- */

static size_t
rows_size(const Scorer *self)
{
    return (size_t)(self->n_terms * self->stride + 8) * sizeof(double);
}

void
Scorer_dealloc(Scorer *self)
{
    Py_XDECREF(self->seg);
    Py_XDECREF(self->names);
    table_free(&self->words);
    keymap_free(&self->bigrams);
    table_free(&self->grams);
    big_free(self->rows_mem, rows_size(self));
    PyMem_RawFree(self->row_of);
    PyMem_RawFree(self->intercept);
    PyMem_RawFree(self->entry_word);
    PyMem_RawFree(self->pending);
    keymap_free(&self->pair_word);
    PyMem_RawFree(self->tf);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static double *
copy_doubles(Py_buffer *b, Py_ssize_t expect, const char *what)
{
    if (b->len != expect * (Py_ssize_t)sizeof(double)) {
        PyErr_Format(PyExc_ValueError, "%s: expected %zd float64 values", what, expect);
        return NULL;
    }
    double *out = PyMem_RawMalloc((size_t)(expect ? expect : 1) * sizeof(double));
    if (out == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    if (PyBuffer_ToContiguous(out, b, b->len, 'C') < 0) {
        PyMem_RawFree(out);
        return NULL;
    }
    return out;
}

/* A buffer's float64 values: the buffer itself where its values are aligned ("y*" buffers are
 * contiguous), else an aligned copy, which *owned then holds for the caller to free. */
static const double *
doubles_of(Py_buffer *b, Py_ssize_t expect, const char *what, double **owned)
{
    *owned = NULL;
    if (b->len == expect * (Py_ssize_t)sizeof(double) && ((uintptr_t)b->buf & 7) == 0)
        return b->buf;
    return *owned = copy_doubles(b, expect, what);
}

/* Where each column's row goes: in order of rising idf, by a counting sort over 4,096
 * buckets of the idf range (an approximate order is all the cache needs). */
static int
order_by_idf(const double *idf, Py_ssize_t n, int32_t *row_of)
{
    enum { BUCKETS = 4096 };
    double lo = INFINITY, hi = -INFINITY;
    for (Py_ssize_t j = 0; j < n; j++)
        if (isfinite(idf[j])) {
            lo = idf[j] < lo ? idf[j] : lo;
            hi = idf[j] > hi ? idf[j] : hi;
        }
    Py_ssize_t *start = PyMem_RawCalloc(BUCKETS + 1, sizeof(Py_ssize_t));
    int32_t *bucket = PyMem_RawMalloc((size_t)(n + 1) * sizeof(int32_t));
    if (start == NULL || bucket == NULL) {
        PyMem_RawFree(start);
        PyMem_RawFree(bucket);
        return PyErr_NoMemory(), -1;
    }
    double scale = hi > lo ? (BUCKETS - 1) / (hi - lo) : 0.0;
    for (Py_ssize_t j = 0; j < n; j++) {
        double b = isfinite(idf[j]) ? (idf[j] - lo) * scale : BUCKETS - 1;
        bucket[j] = b < 0 ? 0 : b > BUCKETS - 1 ? BUCKETS - 1 : (int32_t)b;
        start[bucket[j] + 1]++;
    }
    for (int b = 0; b < BUCKETS; b++)
        start[b + 1] += start[b];
    for (Py_ssize_t j = 0; j < n; j++)
        row_of[j] = (int32_t)start[bucket[j]]++;
    PyMem_RawFree(start);
    PyMem_RawFree(bucket);
    return 0;
}

/* Enter one term (its code points in buf) as column col. With `strict` (a vocabulary file),
 * a term seen before is an error: a file must hold distinct terms. */
static int
add_term(Scorer *self, const CpBuf *buf, Py_ssize_t col, uint32_t **ids, Py_ssize_t *ids_cap,
         int strict, CpBuf *first, Py_ssize_t *first_id)
{
    /* A term is its words joined by single spaces (nlpkit.vocabulary.analyze). */
    Py_ssize_t nw = 0, p = 0;
    for (;;) {
        Py_ssize_t q = p, e;
        while (q < buf->n && buf->p[q] != ' ')
            q++;
        /* Terms come sorted: most share their first word with the term before, found once. */
        if (p == 0 && *first_id >= 0 && first->n == q &&
            memcmp(first->p, buf->p, (size_t)q * sizeof(cp_t)) == 0)
            e = *first_id;
        else {
            e = table_add(&self->words, buf->p + p, q - p, hash_units(buf->p + p, q - p, 4),
                          NULL);
            if (e < 0)
                return -1;
            if (p == 0) {
                first->n = 0;
                if (cp_extend(first, buf->p, q) < 0)
                    return -1;
                *first_id = e;
            }
        }
        if (GROW(*ids, *ids_cap, nw + 1) < 0)
            return -1;
        (*ids)[nw++] = (uint32_t)e;
        if (q >= buf->n)
            break;
        p = q + 1;
    }
    int added = 1;
    /* {term: column}: a term given twice keeps its last column */
    if (nw == 1) {
        added = self->words.recs[(*ids)[0]].value < 0;
        self->words.recs[(*ids)[0]].value = (int32_t)col;
    }
    else if (nw == 2) { /* entered after all terms are read (duplicates are found there) */
        if (self->n_pending == self->pending_cap &&
            GROW(self->pending, self->pending_cap, self->n_pending + 1) < 0)
            return -1;
        self->pending[self->n_pending].key = (uint64_t)(*ids)[0] << 32 | (*ids)[1];
        self->pending[self->n_pending++].value = (int32_t)col;
    }
    else {
        Py_ssize_t g = table_add(&self->grams, *ids, nw, hash_units(*ids, nw, 4), &added);
        if (g < 0)
            return -1;
        self->grams.recs[g].value = (int32_t)col;
    }
    if (strict && !added) {
        PyErr_Format(PyExc_ValueError, "line %zd: a term given twice", col + 1);
        return -1;
    }
    return 0;
}

/* One line of UTF-8 into code points, as strictly as Python's decoder (no overlong forms,
 * surrogates or code points past U+10FFFF); -1 without an exception when it is not UTF-8. */
static int
cp_from_utf8(CpBuf *b, const unsigned char *s, Py_ssize_t n)
{
    if (GROW(b->p, b->cap, n + 1) < 0)
        return -2;
    Py_ssize_t o = 0;
    for (Py_ssize_t i = 0; i < n;) {
        cp_t c = s[i];
        int more = c < 0x80 ? 0 : c >= 0xc2 && c < 0xe0 ? 1 : c >= 0xe0 && c < 0xf0 ? 2
                 : c >= 0xf0 && c < 0xf5 ? 3 : -1;
        if (more < 0 || i + more >= n + (more == 0))
            return -1;
        c &= more == 0 ? 0x7f : more == 1 ? 0x1f : more == 2 ? 0x0f : 0x07;
        for (int k = 1; k <= more; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return -1;
            c = c << 6 | (s[i + k] & 0x3f);
        }
        if ((more == 2 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
            (more == 3 && (c < 0x10000 || c > 0x10ffff)))
            return -1;
        b->p[o++] = c;
        i += more + 1;
    }
    b->n = o;
    return 0;
}

/* The terms of a vocabulary file (UTF-8, one distinct, non-empty term per line, each line
 * ended by "\n"), as columns 0, 1, ...; a ValueError names the first line that is not. */
static int
add_terms_utf8(Scorer *self, const char *data, Py_ssize_t len, CpBuf *buf, uint32_t **ids,
               Py_ssize_t *ids_cap, CpBuf *first, Py_ssize_t *first_id)
{
    Py_ssize_t col = 0;
    for (Py_ssize_t p = 0; p < len; col++) {
        const char *end = memchr(data + p, '\n', (size_t)(len - p));
        Py_ssize_t q = end ? end - data : len;
        if (end == NULL) {
            PyErr_Format(PyExc_ValueError, "line %zd: no newline at the end", col + 1);
            return -1;
        }
        if (q == p) {
            PyErr_Format(PyExc_ValueError, "line %zd: an empty term", col + 1);
            return -1;
        }
        int bad = cp_from_utf8(buf, (const unsigned char *)data + p, q - p);
        if (bad == -2)
            return -1;
        if (bad) {
            PyErr_Format(PyExc_ValueError, "line %zd: not UTF-8", col + 1);
            return -1;
        }
        /* No term holds a control character or a byte-order mark: a file with Windows line
         * ends would otherwise load with a carriage return in every term, matching none. */
        for (Py_ssize_t i = 0; i < buf->n; i++) {
            if (buf->p[i] < 0x20 || buf->p[i] == 0x7f || buf->p[i] == 0xFEFF) {
                PyErr_Format(PyExc_ValueError,
                             "line %zd: a control character or byte-order mark in a term",
                             col + 1);
                return -1;
            }
        }
        if (add_term(self, buf, col, ids, ids_cap, 1, first, first_id) < 0)
            return -1;
        p = q + 1;
    }
    return 0;
}

static Py_ssize_t
count_lines(const char *data, Py_ssize_t len)
{
    Py_ssize_t n = 0;
    for (const char *p = data, *end = data + len; (p = memchr(p, '\n', (size_t)(end - p)));
         p++)
        n++;
    return n + (len > 0 && data[len - 1] != '\n');
}

int
Scorer_init(Scorer *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"segmenter", "terms", "idf", "coef", "intercept", "ngram_range",
                             "sublinear_tf", "max_chars", "tf", "names", "repeat_title", NULL};
    PyObject *seg, *terms, *mc, *names = NULL;
    Py_buffer idf, coef, intercept, tf, file = {0};
    int low, high, sublinear, repeat = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOy*y*y*(ii)pOy*|O!p", kwlist, &seg, &terms,
                                     &idf, &coef, &intercept, &low, &high, &sublinear, &mc, &tf,
                                     &PyTuple_Type, &names, &repeat))
        return -1;
    int status = -1;
    CpBuf buf = {0}, first = {0};
    Py_ssize_t first_id = -1;
    uint32_t *ids = NULL;
    Py_ssize_t ids_cap = 0;
    PyObject *fast = NULL;
    if (seg != Py_None && !PyObject_TypeCheck(seg, &SegmenterType)) {
        PyErr_SetString(PyExc_TypeError, "segmenter must be a Segmenter or None");
        goto done;
    }
    int ok;
    self->max_chars = max_chars_arg(mc, &ok);
    if (!ok)
        goto done;
    Py_XSETREF(self->seg, seg == Py_None ? NULL : (Segmenter *)Py_NewRef(seg));
    self->words.unit = 4;
    self->grams.unit = 4;
    self->low = low;
    self->high = high;
    self->sublinear = sublinear;
    self->repeat_title = repeat;
    /* terms: the text of a vocabulary file (bytes), or a sequence of str */
    if (PyObject_CheckBuffer(terms)) {
        if (PyObject_GetBuffer(terms, &file, PyBUF_SIMPLE) < 0)
            goto done;
        self->n_terms = count_lines(file.buf, file.len);
    }
    else {
        fast = PySequence_Fast(terms, "terms must be a sequence of str or bytes");
        if (fast == NULL)
            goto done;
        self->n_terms = PySequence_Fast_GET_SIZE(fast);
    }
    if (self->n_terms >= INT32_MAX) {
        PyErr_SetString(PyExc_OverflowError, "too many terms");
        goto done;
    }
    Py_ssize_t k = self->n_terms ? coef.len / (Py_ssize_t)sizeof(double) / self->n_terms : 0;
    self->k = (int)(intercept.len / (Py_ssize_t)sizeof(double));
    if (self->k < 1 || (self->n_terms && k != self->k)) {
        PyErr_SetString(PyExc_ValueError, "coef and intercept do not fit the terms");
        goto done;
    }
    if (names != NULL) {
        if (PyTuple_GET_SIZE(names) < 1 || PyTuple_GET_SIZE(names) > self->k) {
            PyErr_SetString(PyExc_ValueError, "names: from one to as many as the classes");
            goto done;
        }
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(names); i++)
            if (!PyUnicode_Check(PyTuple_GET_ITEM(names, i))) {
                PyErr_SetString(PyExc_TypeError, "names must be str");
                goto done;
            }
        Py_XSETREF(self->names, Py_NewRef(names));
    }
    if (!(self->intercept = copy_doubles(&intercept, self->k, "intercept")))
        goto done;
    /* (read in place: a model's weights are megabytes, and fresh memory is slow to touch) */
    double *idf_own, *coef_own;
    const double *idf_c = doubles_of(&idf, self->n_terms, "idf", &idf_own);
    const double *coef_c = doubles_of(&coef, self->n_terms * self->k, "coef", &coef_own);
    self->stride = self->k + 1 <= 8 ? 8 : self->k + 1;
    self->rows_mem = big_alloc(rows_size(self));
    if (idf_c == NULL || coef_c == NULL || self->rows_mem == NULL) {
        PyMem_RawFree(idf_own);
        PyMem_RawFree(coef_own);
        if (!PyErr_Occurred())
            PyErr_NoMemory();
        goto done;
    }
    self->rows = (double *)(((uintptr_t)self->rows_mem + 63) & ~(uintptr_t)63);
    self->row_of = PyMem_RawMalloc((size_t)(self->n_terms + 1) * sizeof(int32_t));
    if (self->row_of == NULL || order_by_idf(idf_c, self->n_terms, self->row_of) < 0) {
        PyMem_RawFree(idf_own);
        PyMem_RawFree(coef_own);
        if (!PyErr_Occurred())
            PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t j = 0; j < self->n_terms; j++) {
        if (j + 8 < self->n_terms) /* the rows are written out of order: ask ahead */
            PREFETCH(self->rows + (Py_ssize_t)self->row_of[j + 8] * self->stride);
        double *row = self->rows + (Py_ssize_t)self->row_of[j] * self->stride;
        row[0] = idf_c[j];
        for (int c = 0; c < self->k; c++) /* coef is topics x terms */
            row[1 + c] = coef_c[c * self->n_terms + j];
    }
    PyMem_RawFree(idf_own);
    PyMem_RawFree(coef_own);
    self->tf_size = tf.len / (Py_ssize_t)sizeof(double);
    if (!(self->tf = copy_doubles(&tf, self->tf_size, "tf")))
        goto done;
    if (fast == NULL) {
        if (add_terms_utf8(self, file.buf, file.len, &buf, &ids, &ids_cap, &first, &first_id) <
            0)
            goto done;
    }
    else {
        PyObject **items = PySequence_Fast_ITEMS(fast);
        for (Py_ssize_t j = 0; j < self->n_terms; j++) {
            if (!PyUnicode_Check(items[j])) {
                PyErr_SetString(PyExc_TypeError, "terms must be str");
                goto done;
            }
            if (cp_from_str(&buf, items[j], NULL) < 0 ||
                add_term(self, &buf, j, &ids, &ids_cap, 0, &first, &first_id) < 0)
                goto done;
        }
    }
    /* The bigram terms, in their order (a later one of the same words wins, as in a dict),
     * into a map made large enough at once, each slot asked for a few inserts ahead: the map
     * is larger than the caches. */
    if (keymap_reserve(&self->bigrams, self->n_pending) < 0)
        goto done;
    Py_ssize_t mask = self->bigrams.nslots - 1;
    for (Py_ssize_t j = 0; j < self->n_pending; j++) {
        if (j + 8 < self->n_pending && self->bigrams.nslots)
            PREFETCH(&self->bigrams.slots[mix64(self->pending[j + 8].key) & (uint64_t)mask]);
        Py_ssize_t before = self->bigrams.n;
        if (keymap_put(&self->bigrams, self->pending[j].key, self->pending[j].value, 0) < 0)
            goto done;
        if (fast == NULL && self->bigrams.n == before) {
            PyErr_Format(PyExc_ValueError, "line %d: a term given twice",
                         self->pending[j].value + 1);
            goto done;
        }
        mask = self->bigrams.nslots - 1;
    }
    PyMem_RawFree(self->pending);
    self->pending = NULL;
    self->n_pending = self->pending_cap = 0;
    status = 0;
done:
    Py_XDECREF(fast);
    PyMem_RawFree(buf.p);
    PyMem_RawFree(first.p);
    PyMem_RawFree(ids);
    PyBuffer_Release(&idf);
    PyBuffer_Release(&coef);
    PyBuffer_Release(&intercept);
    PyBuffer_Release(&tf);
    if (file.obj)
        PyBuffer_Release(&file);
    return status;
}

static int
push_id(Work *w, int32_t id, int32_t col)
{
    if (w->nids == w->ids_cap &&
        (GROW(w->ucols, w->ucols_cap, w->nids + 1) < 0 || GROW(w->ids, w->ids_cap, w->nids + 1) < 0))
        return -1;
    w->ids[w->nids] = id;
    w->ucols[w->nids++] = col;
    return 0;
}

static inline int32_t
word_column(const Scorer *sc, Py_ssize_t id)
{
    return id >= 0 ? sc->words.recs[id].value : -1;
}

/* The word ids of the words (tokens with a letter) of lower-cased segmented text t[0:n]
 * after those w holds (nlpkit.vocabulary.analyze: segmented.lower().split(), then the words). */
static int
word_ids_of(const Scorer *sc, Work *w, const cp_t *t, Py_ssize_t n)
{
    for (Py_ssize_t p = 0; p < n;) {
        if (IS_SPACE(t[p])) {
            p++;
            continue;
        }
        Py_ssize_t q = p;
        int letter = 0;
        while (q < n) {
            uint8_t f = flags_of(t[q]);
            if (f & F_SPACE)
                break;
            letter |= f & F_LETTER;
            q++;
        }
        if (letter) {
            Py_ssize_t id = table_find(&sc->words, t + p, q - p, hash_units(t + p, q - p, 4));
            if (push_id(w, (int32_t)id, word_column(sc, id)) < 0)
                return -1;
        }
        p = q;
    }
    return 0;
}

/* The word ids of the words of the lower-cased segmented text in w->low, after w's. */
static int
word_ids(const Scorer *sc, Work *w)
{
    return word_ids_of(sc, w, w->low.p, w->low.n);
}

/* A model's repeat_title (nlpkit.vocabulary.with_title): the terms of a text's first line,
 * whose words are the first `title` of w's, counted twice. Where the terms are words and
 * bigrams, term_columns adds the title's once more (w->title); longer n-grams take the title's
 * word ids once more before the text's. */
static int
repeat_title(const Scorer *sc, Work *w, Py_ssize_t title)
{
    Py_ssize_t n = w->nids;
    if (sc->high <= 2) {
        w->title = title;
        return 0;
    }
    if (title == 0)
        return 0;
    /* (ucols first, as push_id grows them: a failure never leaves ids the larger, which
     * push_id's check of ids_cap alone relies on) */
    if (GROW(w->ucols, w->ucols_cap, n + title) < 0 || GROW(w->ids, w->ids_cap, n + title) < 0)
        return -1;
    memmove(w->ids + title, w->ids, (size_t)n * sizeof *w->ids);
    memcpy(w->ids, w->ids + title, (size_t)title * sizeof *w->ids);
    memmove(w->ucols + title, w->ucols, (size_t)n * sizeof *w->ucols);
    memcpy(w->ucols, w->ucols + title, (size_t)title * sizeof *w->ucols);
    w->nids = n + title;
    return 0;
}

static void
sync_generation(Scorer *sc, const Segmenter *seg)
{
    if (sc->generation != seg->generation) {
        if (sc->generation < seg->fork_generation) {
            /* (a child of a fork whose parent was changing them: left, as the segmenter's) */
            sc->entry_word = NULL;
            sc->entry_word_cap = 0;
            sc->pair_word = (KeyMap){0};
        }
        else
            keymap_clear(&sc->pair_word);
        sc->entry_word_n = 0;
        sc->generation = seg->generation;
    }
}

/* The word id and column of a cache entry's syllable as a token of its own. */
static int
entry_word(Scorer *sc, const Segmenter *seg, int32_t e)
{
    if (e >= sc->entry_word_n) {
        if (GROW(sc->entry_word, sc->entry_word_cap, 2 * ((Py_ssize_t)e + 1)) < 0)
            return -1;
        for (Py_ssize_t i = 2 * sc->entry_word_n; i < 2 * ((Py_ssize_t)e + 1); i++)
            sc->entry_word[i] = UNKNOWN;
        sc->entry_word_n = (Py_ssize_t)e + 1;
    }
    int32_t *v = sc->entry_word + 2 * (Py_ssize_t)e;
    if (v[0] == UNKNOWN) {
        const Entry *en = &seg->entries[e];
        const cp_t *t = seg->lowers.p + en->lower;
        Py_ssize_t id = table_find(&sc->words, t, en->lower_len, hash_units(t, en->lower_len, 4));
        v[0] = (int32_t)id;
        v[1] = word_column(sc, id);
    }
    return 0;
}

/* The word ids of the words of the segmented text (nlpkit.vocabulary.analyze:
 * segmented.lower().split(), the tokens with a letter), from its syllables: a syllable that
 * is a token of its own costs one look-up of its cache entry; a token of several syllables
 * (joined by "_") is looked up as a string. Lower-casing syllable by syllable gives
 * str.lower() of the whole text: its only context rule (final sigma) stops at "_", " " and
 * "\n", which are neither cased nor case-ignorable. */
static int
syllable_word_ids(Scorer *sc, const Segmenter *seg, Work *w)
{
    const Entry *E = seg->entries;
    Py_ssize_t n = w->nsyl, title = -1; /* the ids of the first line (before the first "\n") */
    w->nids = 0;
    w->title = -1;
    sync_generation(sc, seg);
    for (Py_ssize_t i = 0; i < n;) {
        Py_ssize_t j = i + 1;
        while (j < n && w->sep[j])
            j++;
        /* syllables i..j-1 are one white-space separated group */
        if (j == i + 1) {
            const Entry *e = &E[w->entry[i]];
            if (e->lflags & LOWER_BLANK || !(e->lflags & LOWER_LETTER)) {
                if (title < 0 && e->lower_len == 1 && seg->lowers.p[e->lower] == '\n')
                    title = w->nids;
                i = j;
                continue; /* "\n", or punctuation and numbers: no word */
            }
            if (!(e->lflags & LOWER_SPACE)) {
                int32_t *v;
                if (entry_word(sc, seg, w->entry[i]) < 0)
                    return -1;
                v = sc->entry_word + 2 * (Py_ssize_t)w->entry[i];
                if (push_id(w, v[0], v[1]) < 0)
                    return -1;
                i = j;
                continue;
            }
        }
        const Entry *e1 = &E[w->entry[i]], *e2 = j == i + 2 ? &E[w->entry[i + 1]] : NULL;
        uint64_t pair = 0;
        if (e2 && !((e1->lflags | e2->lflags) & LOWER_SPACE)) {
            /* two syllables joined by "_": a word that every text has, remembered */
            if ((e1->lflags | e2->lflags) & LOWER_LETTER) {
                pair = (uint64_t)(uint32_t)w->entry[i] << 32 | (uint32_t)w->entry[i + 1];
                const KeySlot *known = keymap_find(&sc->pair_word, pair);
                if (known) {
                    if (push_id(w, known->value, known->extra) < 0)
                        return -1;
                    i = j;
                    continue;
                }
            }
            else {
                i = j;
                continue; /* no letter: no word */
            }
        }
        /* The group's lower-cased text, split at white space. */
        CpBuf *b = &w->low;
        b->n = 0;
        for (Py_ssize_t k = i; k < j; k++) {
            const Entry *e = &E[w->entry[k]];
            if (k > i && cp_push(b, '_') < 0)
                return -1;
            if (title < 0 && e->lower_len == 1 && seg->lowers.p[e->lower] == '\n') {
                /* pyvi joined a line's end to a word ("x \n_y"): the title is what came
                 * before the "\n", as with_title cuts it */
                if (word_ids(sc, w) < 0)
                    return -1;
                title = w->nids;
                b->n = 0;
                pair = 0;
                continue;
            }
            if (cp_extend(b, seg->lowers.p + e->lower, e->lower_len) < 0)
                return -1;
        }
        Py_ssize_t before = w->nids;
        if (word_ids(sc, w) < 0)
            return -1;
        if (pair && w->nids == before + 1) {
            if (sc->pair_word.n > (1 << 16))
                keymap_clear(&sc->pair_word);
            if (keymap_put(&sc->pair_word, pair, w->ids[before], w->ucols[before]) < 0)
                return -1;
        }
        i = j;
    }
    return sc->repeat_title ? repeat_title(sc, w, title < 0 ? w->nids : title) : 0;
}

/* The columns of the text's terms (words, then n-grams) into w->cols. */
static int
term_columns(const Scorer *sc, Work *w)
{
    Py_ssize_t nw = w->nids, title = w->title > 0 ? w->title : 0;
    const int32_t *ids = w->ids;
    w->ncols = 0;
    if (GROW(w->cols, w->cols_cap, 2 * (nw + title) + 2) < 0)
        return -1;
    if (sc->low <= 1) {
        for (Py_ssize_t i = 0; i < nw; i++)
            if (w->ucols[i] >= 0)
                w->cols[w->ncols++] = (uint32_t)w->ucols[i];
        for (Py_ssize_t i = 0; i < title; i++) /* (repeat_title) */
            if (w->ucols[i] >= 0)
                w->cols[w->ncols++] = (uint32_t)w->ucols[i];
    }
    if (sc->low <= 2 && sc->high >= 2 && sc->bigrams.nslots) {
        /* First every slot a bigram hashes to is asked for, then each is probed. */
        if (GROW(w->keys, w->keys_cap, nw + 1) < 0)
            return -1;
        Py_ssize_t mask = sc->bigrams.nslots - 1;
        for (Py_ssize_t i = 0; i + 1 < nw; i++) {
            uint64_t key = (uint64_t)(uint32_t)ids[i] << 32 | (uint32_t)ids[i + 1];
            w->keys[i] = key;
            PREFETCH(&sc->bigrams.slots[mix64(key) & (uint64_t)mask]);
        }
        Py_ssize_t first = w->ncols, in_title = 0;
        for (Py_ssize_t i = 0; i + 1 < nw; i++) {
            if (i + 1 == title)
                in_title = w->ncols - first;
            if (ids[i] < 0 || ids[i + 1] < 0)
                continue;
            const KeySlot *b = keymap_find(&sc->bigrams, w->keys[i]);
            if (b)
                w->cols[w->ncols++] = (uint32_t)b->value;
        }
        if (title) {
            /* (repeat_title) The title's bigrams once more, and the one where the title read
             * again meets itself: its last word, then its first. */
            if (title == nw)
                in_title = w->ncols - first;
            memcpy(w->cols + w->ncols, w->cols + first, (size_t)in_title * sizeof *w->cols);
            w->ncols += in_title;
            if (ids[title - 1] >= 0 && ids[0] >= 0) {
                uint64_t key = (uint64_t)(uint32_t)ids[title - 1] << 32 | (uint32_t)ids[0];
                const KeySlot *b = keymap_find(&sc->bigrams, key);
                if (b)
                    w->cols[w->ncols++] = (uint32_t)b->value;
            }
        }
    }
    int from = sc->low > 3 ? sc->low : 3;
    for (int g = from; g <= sc->high; g++) {
        for (Py_ssize_t i = 0; i + g <= nw; i++) {
            int known = 1;
            for (int j = 0; j < g; j++)
                known &= ids[i + j] >= 0;
            if (!known)
                continue;
            Py_ssize_t e = table_find(&sc->grams, ids + i, g, hash_units(ids + i, g, 4));
            if (e >= 0) {
                if (GROW(w->cols, w->cols_cap, w->ncols + 1) < 0)
                    return -1;
                w->cols[w->ncols++] = (uint32_t)sc->grams.recs[e].value;
            }
        }
    }
    return 0;
}

static inline void
sort2(uint32_t *a, int i, int j)
{
    uint32_t x = a[i], y = a[j];
    a[i] = x < y ? x : y;
    a[j] = x < y ? y : x;
}

/* Merge sort of a[0:n] (b: room for n): runs of four by a sorting network, then merges
 * without a branch on which side is smaller (that outcome is random). */
static void
merge_sort(uint32_t *a, uint32_t *b, Py_ssize_t n)
{
    uint32_t *in = a, *out = b;
    Py_ssize_t i = 0;
    for (; i + 4 <= n; i += 4) {
        uint32_t *p = a + i;
        sort2(p, 0, 1);
        sort2(p, 2, 3);
        sort2(p, 0, 2);
        sort2(p, 1, 3);
        sort2(p, 1, 2);
    }
    for (Py_ssize_t k = i + 1; k < n; k++) { /* the last few */
        uint32_t v = a[k];
        Py_ssize_t j = k;
        for (; j > i && a[j - 1] > v; j--)
            a[j] = a[j - 1];
        a[j] = v;
    }
    for (Py_ssize_t run = 4; run < n; run *= 2) {
        for (Py_ssize_t lo = 0; lo < n; lo += 2 * run) {
            Py_ssize_t mid = lo + run < n ? lo + run : n, hi = lo + 2 * run < n ? lo + 2 * run : n;
            Py_ssize_t x = lo, y = mid, k = lo;
            while (x < mid && y < hi) {
                uint32_t u = in[x], v = in[y];
                int right = v < u;
                out[k++] = right ? v : u;
                x += !right;
                y += right;
            }
            while (x < mid)
                out[k++] = in[x++];
            while (y < hi)
                out[k++] = in[y++];
        }
        uint32_t *t = in;
        in = out;
        out = t;
    }
    if (in != a)
        memcpy(a, in, (size_t)n * sizeof(uint32_t));
}

/* LSD radix sort of a[0:n] (b: room for n), 8 bits a pass: the counts of every pass in one
 * reading; a pass whose digit is the same everywhere is left out. */
static void
radix_sort(uint32_t *a, uint32_t *b, Py_ssize_t n)
{
    uint32_t count[4][256], all = 0;
    memset(count, 0, sizeof(count));
    for (Py_ssize_t i = 0; i < n; i++) {
        uint32_t v = a[i];
        all |= v;
        count[0][v & 255]++;
        count[1][(v >> 8) & 255]++;
        count[2][(v >> 16) & 255]++;
        count[3][v >> 24]++;
    }
    uint32_t *in = a, *out = b;
    for (int pass = 0; pass < 4 && (all >> (8 * pass)); pass++) {
        int shift = 8 * pass;
        uint32_t *c = count[pass];
        if (c[(in[0] >> shift) & 255] == (uint32_t)n)
            continue;
        uint32_t sum = 0;
        for (int d = 0; d < 256; d++) {
            uint32_t x = c[d];
            c[d] = sum;
            sum += x;
        }
        for (Py_ssize_t i = 0; i < n; i++)
            out[c[(in[i] >> shift) & 255]++] = in[i];
        uint32_t *t = in;
        in = out;
        out = t;
    }
    if (in != a)
        memcpy(a, in, (size_t)n * sizeof(uint32_t));
}

static int
sort_columns(Work *w)
{
    Py_ssize_t n = w->ncols;
    if (n < 2)
        return 0;
    if (GROW(w->cols2, w->cols2_cap, n) < 0)
        return -1;
    /* (measured on random columns: the merge sort is the faster up to about a hundred) */
    if (n <= 96)
        merge_sort(w->cols, w->cols2, n);
    else
        radix_sort(w->cols, w->cols2, n);
    return 0;
}

/* TF-IDF weights of the sorted columns (nlpkit.vocabulary.tfidf_weights): sublinear tf,
 * idf, L2 norm, in column order. Leaves the distinct columns in w->cols[0:m] and their
 * weights in w->s0[0:m]; m in *m. Returns DONE or NEEDS_PYTHON (a count beyond the table
 * of logarithms). */
static int
tfidf(const Scorer *sc, Work *w, Py_ssize_t *m_out)
{
    for (Py_ssize_t i = 0; i < w->ncols; i++) /* the rows arrive while the columns sort */
        PREFETCH(sc->rows + (Py_ssize_t)sc->row_of[w->cols[i]] * sc->stride);
    if (sort_columns(w) < 0)
        return FAILED;
    Py_ssize_t n = w->ncols, m = 0;
    if (GROW(w->s0, w->s_cap, n + 1) < 0)
        return FAILED;
    double norm2 = 0.0;
    for (Py_ssize_t i = 0; i < n;) {
        Py_ssize_t j = i + 1;
        while (j < n && w->cols[j] == w->cols[i])
            j++;
        Py_ssize_t count = j - i;
        double tf;
        if (sc->sublinear) {
            if (count >= sc->tf_size)
                return NEEDS_PYTHON;
            tf = sc->tf[count];
        }
        else
            tf = (double)count;
        double v = tf * sc->rows[(Py_ssize_t)sc->row_of[w->cols[i]] * sc->stride];
        norm2 += v * v;
        w->cols[m] = w->cols[i];
        w->s0[m++] = v;
        i = j;
    }
    double norm = sqrt(norm2);
    for (Py_ssize_t i = 0; i < m; i++)
        w->s0[i] = w->s0[i] / norm;
    *m_out = m;
    return DONE;
}

static void
linear_scores(const Scorer *sc, const Work *w, Py_ssize_t m, double *out)
{
    /* Per topic: 0.0, plus each term's weight times its TF-IDF weight in column order, plus
     * the intercept (numpy.bincount, then + intercept). */
    int k = sc->k;
    for (int c = 0; c < k; c++)
        out[c] = 0.0;
    for (Py_ssize_t i = 0; i < m; i++) {
        const double *row = sc->rows + (Py_ssize_t)sc->row_of[w->cols[i]] * sc->stride + 1;
        double v = w->s0[i];
        for (int c = 0; c < k; c++)
            out[c] += row[c] * v;
    }
    for (int c = 0; c < k; c++)
        out[c] = out[c] + sc->intercept[c];
}

/* The scores of a text whose syllables w holds (prepare_syllables or its _cp twin): the words,
 * their terms, TF-IDF and the linear scores into out (when given). */
static inline int
score_syllables(Scorer *sc, Work *w, double *out, Py_ssize_t *m)
{
    /* No Python from here on: the cache entries stay where they are. */
    if (separators(sc->seg, w) < 0 || syllable_word_ids(sc, sc->seg, w) < 0 ||
        term_columns(sc, w) < 0)
        return FAILED;
    int status = tfidf(sc, w, m);
    if (status == DONE && out)
        linear_scores(sc, w, *m, out);
    return status;
}

/* Scores of one raw text into out[0:k]; DONE, INVALID, NEEDS_PYTHON or FAILED. Leaves the
 * distinct columns and weights in w (see tfidf) and their number in *m. */
int
score_text(Scorer *sc, PyObject *text, Work *w, double *out, Py_ssize_t *m)
{
    int status = prepare_syllables(sc->seg, text, sc->max_chars, w);
    return status == DONE ? score_syllables(sc, w, out, m) : status;
}

/* score_text of a text given as code points (nlpkit.batch's records, decoded from UTF-8
 * without making a str): the same scores. (A lone surrogate is not NFC-inert: such a text
 * takes the str path, which replaces it; a code point past U+10FFFF is a ValueError there.) */
int
score_cp(Scorer *sc, const cp_t *t, Py_ssize_t n, Work *w, double *out, Py_ssize_t *m)
{
    int status = prepare_syllables_cp(sc->seg, t, n, sc->max_chars, w);
    if (status == NEEDS_STR) {
        PyThreadState *held = gil_hold(sc->seg);
        PyObject *text = str_from_cp(t, n);
        status = text == NULL ? FAILED : score_text(sc, text, w, out, m);
        Py_XDECREF(text);
        gil_drop(sc->seg, held);
        return status;
    }
    return status == DONE ? score_syllables(sc, w, out, m) : status;
}

int
score_prepared(Scorer *sc, PyObject *text, Work *w, double *out, Py_ssize_t *m)
{
    if (!PyUnicode_Check(text))
        return NEEDS_PYTHON;
    PyObject *lower = PyObject_CallMethod(text, "lower", NULL);
    if (lower == NULL)
        return FAILED;
    if (!PyUnicode_Check(lower)) {
        Py_DECREF(lower);
        return NEEDS_PYTHON;
    }
    int status = cp_from_str(&w->low, lower, NULL);
    Py_DECREF(lower);
    if (status < 0)
        return FAILED;
    /* With repeat_title, the first line (the title) and then the rest: no word spans a "\n".
     * Otherwise the whole text at once. */
    const cp_t *t = w->low.p;
    Py_ssize_t n = w->low.n, nl = n;
    if (sc->repeat_title)
        for (nl = 0; nl < n && t[nl] != '\n'; nl++)
            ;
    w->nids = 0;
    w->title = -1;
    if (word_ids_of(sc, w, t, nl) < 0)
        return FAILED;
    Py_ssize_t title = w->nids;
    if (word_ids_of(sc, w, t + nl, n - nl) < 0 ||
        (sc->repeat_title && repeat_title(sc, w, title) < 0) || term_columns(sc, w) < 0)
        return FAILED;
    status = tfidf(sc, w, m);
    if (status == DONE && out)
        linear_scores(sc, w, *m, out);
    return status;
}

int
argmax(const double *s, int k)
{
    /* numpy.argmax: the first maximum; the first NaN if there is one */
    int best = 0;
    for (int c = 1; c < k; c++) {
        if (isnan(s[best]))
            break;
        if (s[c] > s[best] || isnan(s[c]))
            best = c;
    }
    return best;
}

