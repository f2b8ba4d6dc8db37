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
