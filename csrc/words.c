/* Training's word numbering: every token of many texts numbered in one pass. */

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

/* number_tokens(texts): (ids, docs, tokens) for a list of str. The tokens are those of
 * text.lower().split() for each text, in order; ids (int64 bytes) numbers each token 0, 1,
 * ... by the order in which its string first appears, docs (int64 bytes) gives the index of
 * its text, and tokens lists the distinct strings by number. nlpkit.features._number_words
 * does the same in Python, where splitting the texts and looking each token up in a dict
 * made most of the counting's time; here a token is a slice of its text, looked up without
 * becoming a str (only the distinct ones do). Python's str.lower and its white space
 * (Py_UNICODE_ISSPACE, what str.split splits on) keep the tokens exactly Python's. */
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
    Table table = {.unit = 4};
    CpBuf token = {0};
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
        PyObject *low = PyObject_CallMethodNoArgs(text, str_lower);
        if (low == NULL)
            goto done;
        int kind = PyUnicode_KIND(low);
        const void *data = PyUnicode_DATA(low);
        Py_ssize_t len = PyUnicode_GET_LENGTH(low), i = 0;
        for (;;) {
            while (i < len && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, i)))
                i++;
            if (i >= len)
                break;
            token.n = 0;
            for (; i < len; i++) {
                Py_UCS4 c = PyUnicode_READ(kind, data, i);
                if (Py_UNICODE_ISSPACE(c))
                    break;
                if (cp_push(&token, c) < 0) {
                    Py_DECREF(low);
                    goto done;
                }
            }
            uint64_t h = hash_units(token.p, token.n, 4);
            Py_ssize_t e = table_find(&table, token.p, token.n, h);
            if (e < 0) {
                e = table_add(&table, token.p, token.n, h, NULL);
                PyObject *s = e < 0 ? NULL : str_from_cp(token.p, token.n);
                if (s == NULL || PyList_Append(tokens, s) < 0) {
                    Py_XDECREF(s);
                    Py_DECREF(low);
                    goto done;
                }
                Py_DECREF(s);
            }
            if (push_pair(&ids, &docs, &cap, n) < 0) {
                Py_DECREF(low);
                goto done;
            }
            ids[n] = e;
            docs[n] = d;
            n++;
        }
        Py_DECREF(low);
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
    PyMem_Free(ids);
    PyMem_Free(docs);
    PyMem_Free(token.p);
    table_free(&table);
    return result;
}

/* Room for n + 1 int64 values in *a. */
static int
push_one(int64_t **a, Py_ssize_t *cap, Py_ssize_t n)
{
    return n < *cap ? 0 : GROW(*a, *cap, n + 1);
}

/* count_ngrams(words, docs, n_words, unigrams, bigrams): (rows, terms, tf, bigram_keys) for
 * words numbered 0 .. n_words - 1 (int64 bytes, in text order) and the text of each (int64
 * bytes, never decreasing). Terms: a word's number (with unigrams), or for a bigram, the
 * number of words counted as terms plus its own number, by the order in which it first
 * appears (two words in a row of the same text); bigram_keys gives each bigram's key,
 * first * n_words + second. rows, terms and tf: one entry per text and term in it, the
 * texts in order, each text's terms by first appearance. What nlpkit.features.count_terms
 * computes with numpy by sorting every (text, term) pair; here each pair is counted where it
 * is met, and a bigram is numbered by a hash table. */
PyObject *
core_count_ngrams(PyObject *module, PyObject *args)
{
    (void)module;
    Py_buffer wb = {0}, db = {0};
    Py_ssize_t n_words;
    int unigrams, bigrams;
    if (!PyArg_ParseTuple(args, "y*y*npp", &wb, &db, &n_words, &unigrams, &bigrams))
        return NULL;
    PyObject *result = NULL;
    KeyMap pairs = {0};
    int64_t *rows = NULL, *terms = NULL, *tf = NULL, *keys = NULL, *last = NULL, *slot = NULL;
    Py_ssize_t n = 0, cap_r = 0, cap_t = 0, cap_f = 0, n_keys = 0, cap_k = 0, cap_last = 0;
    Py_ssize_t cap_slot = 0;
    const int64_t *word = wb.buf, *doc = db.buf;
    Py_ssize_t count = wb.len / (Py_ssize_t)sizeof(int64_t);
    if (wb.len != db.len || wb.len % (Py_ssize_t)sizeof(int64_t) || n_words < 0 ||
        (double)n_words * (double)n_words >= 9.2e18) {
        PyErr_SetString(PyExc_ValueError, "count_ngrams: bad arguments");
        goto done;
    }
    Py_ssize_t base = unigrams ? n_words : 0; /* terms before the first bigram */
    for (Py_ssize_t i = 0; i < count; i++) {
        int64_t d = doc[i], w = word[i];
        if (w < 0 || w >= n_words || (i && d < doc[i - 1])) {
            PyErr_SetString(PyExc_ValueError, "count_ngrams: bad word or text numbers");
            goto done;
        }
        int64_t found[2];
        int k = 0;
        if (unigrams)
            found[k++] = w;
        if (bigrams && i + 1 < count && doc[i + 1] == d) {
            if (word[i + 1] < 0 || word[i + 1] >= n_words) {
                PyErr_SetString(PyExc_ValueError, "count_ngrams: bad word numbers");
                goto done;
            }
            uint64_t key = (uint64_t)w * (uint64_t)n_words + (uint64_t)word[i + 1];
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
                if (keymap_put(&pairs, key, (int32_t)b, 0) < 0 || push_one(&keys, &cap_k, n_keys) < 0)
                    goto done;
                keys[n_keys++] = (int64_t)key;
            }
            found[k++] = base + b;
        }
        for (int j = 0; j < k; j++) {
            int64_t t = found[j];
            if (t >= cap_last) { /* a new term: in no text yet */
                Py_ssize_t old = cap_last;
                if (GROW(last, cap_last, t + 1) < 0 || GROW(slot, cap_slot, t + 1) < 0)
                    goto done;
                for (Py_ssize_t x = old; x < cap_last; x++)
                    last[x] = -1;
            }
            if (last[t] == d) { /* met before in this text: its entry is slot[t] */
                tf[slot[t]]++;
                continue;
            }
            if (push_one(&rows, &cap_r, n) < 0 || push_one(&terms, &cap_t, n) < 0 ||
                push_one(&tf, &cap_f, n) < 0)
                goto done;
            last[t] = d;
            slot[t] = n;
            rows[n] = d;
            terms[n] = t;
            tf[n] = 1;
            n++;
        }
    }
    PyObject *r = PyBytes_FromStringAndSize((const char *)rows, n * 8);
    PyObject *t = r ? PyBytes_FromStringAndSize((const char *)terms, n * 8) : NULL;
    PyObject *f = t ? PyBytes_FromStringAndSize((const char *)tf, n * 8) : NULL;
    PyObject *b = f ? PyBytes_FromStringAndSize((const char *)keys, n_keys * 8) : NULL;
    if (b != NULL)
        result = PyTuple_Pack(4, r, t, f, b);
    Py_XDECREF(r);
    Py_XDECREF(t);
    Py_XDECREF(f);
    Py_XDECREF(b);
done:
    PyBuffer_Release(&wb);
    PyBuffer_Release(&db);
    keymap_free(&pairs);
    PyMem_Free(rows);
    PyMem_Free(terms);
    PyMem_Free(tf);
    PyMem_Free(keys);
    PyMem_Free(last);
    PyMem_Free(slot);
    return result;
}
