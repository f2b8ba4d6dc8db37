/* Training's counting of terms: every token of many texts numbered, each text's terms counted,
 * and the chosen columns kept, each in one pass (nlpkit.counting). */

#include "core.h"

static PyObject *str_lower;

/* Room for n + 1 entries in two parallel int64 arrays. */
static int
push_pair(int64_t **a, int64_t **b, Py_ssize_t *cap, Py_ssize_t n)
{
    if (n < *cap)
        return 0;
    Py_ssize_t cap_a = *cap, cap_b = *cap;
    if (GROW(*a, cap_a, n + 1) < 0 || GROW(*b, cap_b, n + 1) < 0)
        return -1;
    *cap = cap_a < cap_b ? cap_a : cap_b;
    return 0;
}

/* The number of a token as it is written (cp, n: its code points) that raw has not met: its
 * lower case (Python's str.lower of the token alone, the same as of its text: white space
 * ends a token, and only white space would change what lower case does at its ends) looked
 * up among the tokens numbered so far, numbered if new (and its str added to tokens). */
static Py_ssize_t
number_new(Table *raw, Table *table, PyObject *tokens, const cp_t *cp, Py_ssize_t n, uint64_t h,
           CpBuf *low_cp)
{
    PyObject *s = str_from_cp(cp, n);
    PyObject *low = s ? PyObject_CallMethodNoArgs(s, str_lower) : NULL;
    Py_XDECREF(s);
    if (low == NULL)
        return -1;
    int kind = PyUnicode_KIND(low);
    const void *data = PyUnicode_DATA(low);
    low_cp->n = 0;
    for (Py_ssize_t i = 0; i < PyUnicode_GET_LENGTH(low); i++)
        if (cp_push(low_cp, PyUnicode_READ(kind, data, i)) < 0) {
            Py_DECREF(low);
            return -1;
        }
    int added;
    Py_ssize_t e = table_add(table, low_cp->p, low_cp->n,
                             hash_units(low_cp->p, low_cp->n, 4), &added);
    if (e >= 0 && added && PyList_Append(tokens, low) < 0)
        e = -1;
    Py_DECREF(low);
    if (e < 0)
        return -1;
    Py_ssize_t r = table_add(raw, cp, n, h, NULL);
    if (r < 0)
        return -1;
    raw->recs[r].value = (int32_t)e;
    return e;
}

/* number_tokens(texts): (ids, docs, tokens) for a list of str. The tokens are those of
 * text.lower().split() for each text, in order; ids (int64 bytes) numbers each token 0, 1,
 * ... by the order in which its string first appears, docs (int64 bytes) gives the index of
 * its text, and tokens lists the distinct strings by number. nlpkit.features._number_words
 * does the same in Python, where splitting the texts and looking each token up in a dict
 * made most of the counting's time; here a token is a slice of its text, looked up as it is
 * written without becoming a str, and only a way of writing it not met before is put in
 * lower case (the texts are not: lower-casing whole texts took a fifth of the time).
 * Python's str.lower and its white space (Py_UNICODE_ISSPACE, what str.split splits on, read
 * from the core's table of character classes) keep the tokens exactly Python's. */
PyObject *
core_number_tokens(PyObject *module, PyObject *texts)
{
    (void)module;
    if (!PyList_Check(texts)) {
        PyErr_Format(PyExc_TypeError, "texts must be a list, got %.100s", Py_TYPE(texts)->tp_name);
        return NULL;
    }
    if (str_lower == NULL && !(str_lower = PyUnicode_InternFromString("lower")))
        return NULL;
    Table table = {.unit = 4}, raw = {.unit = 4};
    CpBuf token = {0}, low_cp = {0};
    int64_t *ids = NULL, *docs = NULL;
    Py_ssize_t n = 0, cap = 0;
    PyObject *result = NULL, *ids_b = NULL, *docs_b = NULL;
    PyObject *tokens = PyList_New(0);
    if (tokens == NULL)
        goto done;
    for (Py_ssize_t d = 0; d < PyList_GET_SIZE(texts); d++) {
        PyObject *text = PyList_GET_ITEM(texts, d);
        if (!PyUnicode_Check(text)) {
            PyErr_Format(PyExc_TypeError, "texts[%zd] must be a str, got %.100s", d,
                         Py_TYPE(text)->tp_name);
            goto done;
        }
        int kind = PyUnicode_KIND(text);
        const void *data = PyUnicode_DATA(text);
        Py_ssize_t len = PyUnicode_GET_LENGTH(text), i = 0;
        for (;;) {
            while (i < len && IS_SPACE(PyUnicode_READ(kind, data, i)))
                i++;
            if (i >= len)
                break;
            token.n = 0;
            for (; i < len; i++) {
                Py_UCS4 c = PyUnicode_READ(kind, data, i);
                if (IS_SPACE(c))
                    break;
                if (cp_push(&token, c) < 0)
                    goto done;
            }
            uint64_t h = hash_units(token.p, token.n, 4);
            Py_ssize_t r = table_find(&raw, token.p, token.n, h), e;
            if (r >= 0)
                e = raw.recs[r].value;
            else if ((e = number_new(&raw, &table, tokens, token.p, token.n, h, &low_cp)) < 0)
                goto done;
            if (push_pair(&ids, &docs, &cap, n) < 0)
                goto done;
            ids[n] = e;
            docs[n] = d;
            n++;
        }
    }
    ids_b = PyBytes_FromStringAndSize((const char *)ids, n * (Py_ssize_t)sizeof(int64_t));
    docs_b = ids_b ? PyBytes_FromStringAndSize((const char *)docs, n * (Py_ssize_t)sizeof(int64_t))
                   : NULL;
    if (docs_b != NULL)
        result = PyTuple_Pack(3, ids_b, docs_b, tokens);
done:
    Py_XDECREF(ids_b);
    Py_XDECREF(docs_b);
    Py_XDECREF(tokens);
    PyMem_RawFree(ids);
    PyMem_RawFree(docs);
    PyMem_RawFree(token.p);
    PyMem_RawFree(low_cp.p);
    table_free(&table);
    table_free(&raw);
    return result;
}

/* A text's bigram terms met so far -> their entry: a small table, empty at each text. */
typedef struct {
    int64_t *term; /* -1: empty */
    int64_t *entry;
    Py_ssize_t nslots, cap; /* slots in use (a power of two), slots allocated */
} Local;

/* An empty table with room for n terms at half load. */
static int
local_reset(Local *t, Py_ssize_t n)
{
    Py_ssize_t want = 16;
    while (want < 2 * n)
        want *= 2;
    if (want > t->cap) {
        PyMem_RawFree(t->term);
        PyMem_RawFree(t->entry);
        t->term = PyMem_RawMalloc((size_t)want * sizeof(int64_t));
        t->entry = PyMem_RawMalloc((size_t)want * sizeof(int64_t));
        if (t->term == NULL || t->entry == NULL)
            return PyErr_NoMemory(), -1;
        t->cap = want;
    }
    /* (only as many slots as a text of n terms needs: clearing more would cost more) */
    t->nslots = want;
    memset(t->term, 0xff, (size_t)t->nslots * sizeof(int64_t));
    return 0;
}

/* count_ngrams(tokens, docs, words, n_words, unigrams, bigrams): (rows, terms, tf, bigram_keys)
 * for tokens numbered as number_tokens numbers them (int64 bytes, in text order), the text of
 * each (int64 bytes, never decreasing) and the word of each token number (int64 bytes: 0 ..
 * n_words - 1, or -1 for a token that is no word, which is skipped as if it were not there:
 * punctuation between two words leaves them a bigram). The tokens are taken as they are
 * numbered, so that the words of millions of tokens are never picked out into arrays of their
 * own. Terms: a word's number (with unigrams), or for a bigram, the number of words counted
 * as terms plus its own number, by the order in which it first appears (two words in a row of
 * the same text); bigram_keys gives each bigram's key, first * n_words + second. rows, terms
 * and tf: one entry per text and term in it, the texts in order, each text's terms by first
 * appearance. What nlpkit.counting computes with numpy by sorting every (text, term) pair;
 * here each pair is counted where it is met: a word's in an array over the words, a bigram's
 * in a small table of the text's own (an array over millions of bigrams would be a cache miss
 * a bigram), and a bigram is numbered by a hash table. */
PyObject *
core_count_ngrams(PyObject *module, PyObject *args)
{
    (void)module;
    Py_buffer tb = {0}, db = {0}, wb = {0};
    Py_ssize_t n_words;
    int unigrams, bigrams;
    if (!PyArg_ParseTuple(args, "y*y*y*npp", &tb, &db, &wb, &n_words, &unigrams, &bigrams))
        return NULL;
    PyObject *result = NULL, *out[4] = {NULL, NULL, NULL, NULL};
    KeyMap pairs = {0};
    Local local = {0};
    int64_t *rows, *terms, *tf, *keys, *last = NULL, *slot = NULL;
    Py_ssize_t n = 0, n_keys = 0;
    const int64_t *token = tb.buf, *doc = db.buf, *word = wb.buf;
    Py_ssize_t count = tb.len / (Py_ssize_t)sizeof(int64_t);
    Py_ssize_t n_tokens = wb.len / (Py_ssize_t)sizeof(int64_t);
    if (tb.len != db.len || tb.len % (Py_ssize_t)sizeof(int64_t) ||
        wb.len % (Py_ssize_t)sizeof(int64_t) || n_words < 0 ||
        (double)n_words * (double)n_words >= 9.2e18) {
        PyErr_SetString(PyExc_ValueError, "count_ngrams: bad arguments");
        goto done;
    }
    for (Py_ssize_t t = 0; t < n_tokens; t++) {
        if (word[t] < -1 || word[t] >= n_words) {
            PyErr_SetString(PyExc_ValueError, "count_ngrams: bad word numbers");
            goto done;
        }
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        if (token[i] < 0 || token[i] >= n_tokens || (i && doc[i] < doc[i - 1])) {
            PyErr_SetString(PyExc_ValueError, "count_ngrams: bad token or text numbers");
            goto done;
        }
    }
    /* The results are written where Python will read them: bytes as long as they could be
     * (a term a word and a bigram a word), cut to length at the end. Untouched memory costs
     * nothing, where growing arrays and copying them out touched every page four times. */
    Py_ssize_t most = (unigrams + bigrams) * count;
    for (int k = 0; k < 4; k++)
        if (!(out[k] = PyBytes_FromStringAndSize(NULL, (k == 3 ? count : most) * 8)))
            goto done;
    rows = (int64_t *)PyBytes_AS_STRING(out[0]);
    terms = (int64_t *)PyBytes_AS_STRING(out[1]);
    tf = (int64_t *)PyBytes_AS_STRING(out[2]);
    keys = (int64_t *)PyBytes_AS_STRING(out[3]);
    if (unigrams) {
        last = PyMem_RawMalloc((size_t)(n_words ? n_words : 1) * sizeof(int64_t));
        slot = PyMem_RawMalloc((size_t)(n_words ? n_words : 1) * sizeof(int64_t));
        if (last == NULL || slot == NULL) {
            PyErr_NoMemory();
            goto done;
        }
        for (Py_ssize_t x = 0; x < n_words; x++)
            last[x] = -1;
    }
    Py_ssize_t base = unigrams ? n_words : 0; /* terms before the first bigram */
    /* Room for a bigram in four of the words: news text has about one distinct bigram in
     * five (VNTC's training texts: 2.6 million in 11.6 million words). Growing from empty
     * would move every bigram several times, each move a cache miss. */
    if (bigrams && keymap_reserve(&pairs, count / 4) < 0)
        goto done;
    /* A word's terms, in the order the counting by sorting gives them within a text: the
     * bigram that the word ends (with the word before it), then the word itself. */
    int64_t prev = -1; /* the text's word before, -1 at its start */
    for (Py_ssize_t i = 0, end = 0; i < count; i++) {
        int64_t d = doc[i], w = word[token[i]];
        if (i == end) { /* a new text: its tokens are i .. end - 1 */
            while (end < count && doc[end] == d)
                end++;
            if (bigrams && local_reset(&local, end - i) < 0)
                goto done;
            prev = -1;
        }
        if (w < 0)
            continue; /* no word: punctuation, a bare number */
        int64_t before = prev;
        prev = w;
        if (bigrams && before >= 0) {
            uint64_t key = (uint64_t)before * (uint64_t)n_words + (uint64_t)w;
            const KeySlot *s = keymap_find(&pairs, key);
            int64_t b;
            if (s != NULL)
                b = s->value;
            else {
                if (n_keys >= INT32_MAX) {
                    PyErr_SetString(PyExc_OverflowError, "too many distinct bigrams");
                    goto done;
                }
                b = n_keys;
                if (keymap_put(&pairs, key, (int32_t)b, 0) < 0)
                    goto done;
                keys[n_keys++] = (int64_t)key;
            }
            Py_ssize_t mask = local.nslots - 1;
            Py_ssize_t h = (Py_ssize_t)(mix64((uint64_t)b) & (uint64_t)mask);
            while (local.term[h] != -1 && local.term[h] != b)
                h = (h + 1) & mask;
            if (local.term[h] == b)
                tf[local.entry[h]]++;
            else {
                local.term[h] = b;
                local.entry[h] = n;
                rows[n] = d;
                terms[n] = base + b;
                tf[n++] = 1;
            }
        }
        if (unigrams) {
            if (last[w] == d)
                tf[slot[w]]++;
            else {
                last[w] = d;
                slot[w] = n;
                rows[n] = d;
                terms[n] = w;
                tf[n++] = 1;
            }
        }
    }
    if (_PyBytes_Resize(&out[0], n * 8) < 0 || _PyBytes_Resize(&out[1], n * 8) < 0 ||
        _PyBytes_Resize(&out[2], n * 8) < 0 || _PyBytes_Resize(&out[3], n_keys * 8) < 0)
        goto done;
    result = PyTuple_Pack(4, out[0], out[1], out[2], out[3]);
done:
    PyBuffer_Release(&tb);
    PyBuffer_Release(&db);
    PyBuffer_Release(&wb);
    keymap_free(&pairs);
    PyMem_RawFree(local.term);
    PyMem_RawFree(local.entry);
    for (int k = 0; k < 4; k++)
        Py_XDECREF(out[k]);
    PyMem_RawFree(last);
    PyMem_RawFree(slot);
    return result;
}

/* keep_columns(rows, terms, tf, columns, n_docs): (indptr, indices, data, wide), the CSR
 * arrays of the entries (rows, terms and tf: int64 bytes, rows never decreasing, as
 * count_ngrams gives them) whose term has a column (columns: int64 bytes, a term's column or
 * -1). indptr and indices are int32 (int64 when `wide`: more entries than int32 counts), data
 * int64; bytearrays, which numpy reads in place and scipy may sort. What numpy's
 * column[terms], the mask and three gathers made, in one pass over the entries. */
PyObject *
core_keep_columns(PyObject *module, PyObject *args)
{
    (void)module;
    Py_buffer rb = {0}, tb = {0}, fb = {0}, cb = {0};
    Py_ssize_t n_docs;
    if (!PyArg_ParseTuple(args, "y*y*y*y*n", &rb, &tb, &fb, &cb, &n_docs))
        return NULL;
    PyObject *result = NULL, *out[3] = {NULL, NULL, NULL};
    const int64_t *row = rb.buf, *term = tb.buf, *tf = fb.buf, *column = cb.buf;
    Py_ssize_t n = rb.len / 8, n_terms = cb.len / 8;
    if (rb.len != tb.len || rb.len != fb.len || rb.len % 8 || cb.len % 8 || n_docs < 0) {
        PyErr_SetString(PyExc_ValueError, "keep_columns: bad arguments");
        goto done;
    }
    if (n_docs >= PY_SSIZE_T_MAX / 8 - 1) { /* (indptr's bytes must be countable) */
        PyErr_SetString(PyExc_OverflowError, "keep_columns: too many texts");
        goto done;
    }
    int64_t n_cols = 0;
    for (Py_ssize_t t = 0; t < n_terms; t++) {
        if (column[t] < -1 || column[t] >= n_terms) {
            PyErr_SetString(PyExc_ValueError, "keep_columns: bad columns");
            goto done;
        }
        if (column[t] >= n_cols)
            n_cols = column[t] + 1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (term[i] < 0 || term[i] >= n_terms || row[i] < 0 || row[i] >= n_docs ||
            (i && row[i] < row[i - 1])) {
            PyErr_SetString(PyExc_ValueError, "keep_columns: bad rows or terms");
            goto done;
        }
    }
    int wide = n >= INT32_MAX || n_cols >= INT32_MAX;
    Py_ssize_t unit = wide ? 8 : 4;
    if (!(out[0] = PyByteArray_FromStringAndSize(NULL, (n_docs + 1) * unit)) ||
        !(out[1] = PyByteArray_FromStringAndSize(NULL, (n ? n : 1) * unit)) ||
        !(out[2] = PyByteArray_FromStringAndSize(NULL, (n ? n : 1) * 8)))
        goto done;
    char *indptr = PyByteArray_AS_STRING(out[0]), *indices = PyByteArray_AS_STRING(out[1]);
    int64_t *data = (int64_t *)PyByteArray_AS_STRING(out[2]);
    Py_ssize_t k = 0, r = 0; /* entries kept; rows whose start is written */
    for (Py_ssize_t i = 0; i < n; i++) {
        int64_t c = column[term[i]];
        if (c < 0)
            continue;
        for (; r <= row[i]; r++) /* (the rows up to this entry's start here) */
            if (wide)
                ((int64_t *)indptr)[r] = k;
            else
                ((int32_t *)indptr)[r] = (int32_t)k;
        if (wide)
            ((int64_t *)indices)[k] = c;
        else
            ((int32_t *)indices)[k] = (int32_t)c;
        data[k++] = tf[i];
    }
    for (; r <= n_docs; r++)
        if (wide)
            ((int64_t *)indptr)[r] = k;
        else
            ((int32_t *)indptr)[r] = (int32_t)k;
    if (PyByteArray_Resize(out[1], k * unit) < 0 || PyByteArray_Resize(out[2], k * 8) < 0)
        goto done;
    result = Py_BuildValue("(OOOO)", out[0], out[1], out[2], wide ? Py_True : Py_False);
done:
    PyBuffer_Release(&rb);
    PyBuffer_Release(&tb);
    PyBuffer_Release(&fb);
    PyBuffer_Release(&cb);
    for (int j = 0; j < 3; j++)
        Py_XDECREF(out[j]);
    return result;
}
