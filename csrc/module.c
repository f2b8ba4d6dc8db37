/* The module nlpkit._core: its types (segmenter_type.c, scorer_type.c), its functions
 * (json_lines in jsonlines.c; nfc_inert, all_finite and Predictor.predict as a method of the
 * core here) and its initialisation. */

#include "core.h"

static PyObject *
core_nfc_inert(PyObject *module, PyObject *arg)
{
    long c = PyLong_AsLong(arg);
    if (c == -1 && PyErr_Occurred())
        return NULL;
    return PyBool_FromLong(c >= 0 && INERT((cp_t)c));
}

static PyObject *
core_all_finite(PyObject *module, PyObject *args)
{
    Py_buffer b;
    int positive = 0;
    if (!PyArg_ParseTuple(args, "y*|p", &b, &positive))
        return NULL;
    const char *v = b.buf;
    Py_ssize_t n = b.len / (Py_ssize_t)sizeof(double);
    int ok = 1;
    for (Py_ssize_t i = 0; i < n && ok; i++) {
        double x; /* (copied: the buffer need not be aligned) */
        memcpy(&x, v + i * (Py_ssize_t)sizeof(double), sizeof x);
        ok = isfinite(x) && (!positive || x > 0);
    }
    PyBuffer_Release(&b);
    return PyBool_FromLong(ok);
}

/* --- Predictor.predict as a method of the core ---------------------------------------- */

/* predict(texts) is the call users make most, a few microseconds on the core; a method in
 * Python costs a frame on every call (0.3 µs, measured). This method makes the core's call
 * itself: for positional arguments only, with nlpkit.compiled.core set (the tests set it to
 * None for the pure-Python path), it answers with the predictor's `_fast_` (Scorer.topic)
 * where that answers; every other call goes to the Python method, unchanged. */
static PyObject *method_python;  /* the Python predict */
static PyObject *method_switch;  /* nlpkit.compiled */
static PyObject *str_core, *str_fast, *int_one;
static char *method_doc;
static PyMethodDef method_def = {"predict", NULL, METH_FASTCALL | METH_KEYWORDS, NULL};

static PyObject *
method_predict(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    if (nargs >= 1 && nargs <= 3 && kwnames == NULL) {
        PyObject *core = PyObject_GetAttr(method_switch, str_core);
        if (core == NULL)
            return NULL;
        int on = core != Py_None;
        Py_DECREF(core);
        PyObject *fast = on ? PyObject_GetAttr(self, str_fast) : NULL;
        if (fast == NULL && on)
            PyErr_Clear(); /* (an object without one: the Python method answers) */
        if (fast != NULL && fast != Py_None) {
            /* (topic answers None unless n_jobs is 1 and allow_none False) */
            PyObject *a[3] = {args[0], nargs > 1 ? args[1] : int_one,
                              nargs > 2 ? args[2] : Py_False};
            PyObject *topic = PyObject_Vectorcall(fast, a, 3, NULL);
            Py_DECREF(fast);
            if (topic != Py_None)
                return topic; /* (or NULL: its error) */
            Py_DECREF(topic);
        }
        else
            Py_XDECREF(fast);
    }
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0, n = nargs + nkw;
    PyObject *small[8], **all = n + 1 <= 8 ? small : PyMem_RawMalloc((size_t)(n + 1) * sizeof(PyObject *));
    if (all == NULL)
        return PyErr_NoMemory();
    all[0] = self;
    for (Py_ssize_t i = 0; i < n; i++)
        all[i + 1] = args[i];
    PyObject *out = PyObject_Vectorcall(method_python, all, nargs + 1, kwnames);
    if (all != small)
        PyMem_RawFree(all);
    return out;
}

/* predict_method(cls, python_predict, signature, switch): the method above for class cls. */
static PyObject *
core_predict_method(PyObject *module, PyObject *args)
{
    PyObject *cls, *python, *switch_;
    const char *signature;
    if (!PyArg_ParseTuple(args, "O!OsO", &PyType_Type, &cls, &python, &signature, &switch_))
        return NULL;
    if (!PyCallable_Check(python)) {
        PyErr_SetString(PyExc_TypeError, "python_predict must be callable");
        return NULL;
    }
    /* The docstring: a text signature (for inspect and help), then the Python method's. */
    PyObject *doc = PyObject_GetAttrString(python, "__doc__");
    if (doc == NULL)
        return NULL;
    const char *d = PyUnicode_Check(doc) ? PyUnicode_AsUTF8(doc) : "";
    if (d == NULL) {
        Py_DECREF(doc);
        return NULL;
    }
    size_t size = strlen(signature) + strlen(d) + 16;
    char *text = PyMem_RawMalloc(size);
    if (text == NULL) {
        Py_DECREF(doc);
        return PyErr_NoMemory();
    }
    snprintf(text, size, "predict%s\n--\n\n%s", signature, d);
    Py_DECREF(doc);
    if (str_core == NULL && (!(str_core = PyUnicode_InternFromString("core")) ||
                             !(str_fast = PyUnicode_InternFromString("_fast_")) ||
                             !(int_one = PyLong_FromLong(1)))) {
        PyMem_RawFree(text);
        return NULL;
    }
    /* (a descriptor made earlier keeps pointing at method_def: its doc is not freed) */
    method_doc = text;
    method_def.ml_meth = (PyCFunction)(void (*)(void))method_predict;
    method_def.ml_doc = method_doc;
    Py_XSETREF(method_python, Py_NewRef(python));
    Py_XSETREF(method_switch, Py_NewRef(switch_));
    return PyDescr_NewMethod((PyTypeObject *)cls, &method_def);
}

static PyMethodDef core_methods[] = {
    {"json_lines", core_json_lines, METH_VARARGS,
     "json_lines(chunk, sep, text_key, title_key, reserved, limit, skip_first): "
     "(marks, texts, bounds) of a chunk of JSON lines (nlpkit.batch)."},
    {"all_finite", core_all_finite, METH_VARARGS,
     "all_finite(float64 buffer, positive=False): whether every value is finite (and > 0)."},
    {"nfc_inert", core_nfc_inert, METH_O,
     "nfc_inert(code point): whether the core takes a text of such characters as NFC."},
    {"predict_method", core_predict_method, METH_VARARGS,
     "predict_method(cls, python_predict, signature, switch): Predictor.predict in C."},
    {"number_tokens", core_number_tokens, METH_O,
     "number_tokens(texts): (ids, docs, tokens), every token of the texts numbered (words.c)."},
    {"count_ngrams", core_count_ngrams, METH_VARARGS,
     "count_ngrams(tokens, docs, words, n_words, unigrams, bigrams): (rows, terms, tf, "
     "bigram_keys), the terms of numbered words counted per text (words.c)."},
    {"keep_columns", core_keep_columns, METH_VARARGS,
     "keep_columns(rows, terms, tf, columns, n_docs): (indptr, indices, data, wide), the CSR "
     "arrays of the entries whose term has a column (words.c)."},
    {NULL}};

static struct PyModuleDef core_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "nlpkit._core",
    .m_doc = "The compiled predict path of nlpkit (see nlpkit.compiled).",
    .m_size = -1,
    .m_methods = core_methods,
};

unsigned long core_forks = 0;

#ifndef _WIN32
#include <pthread.h>

static void
forked_child(void)
{
    core_forks++;
}
#endif

PyMODINIT_FUNC
PyInit__core(void)
{
#ifndef _WIN32
    static int registered = 0;
    if (!registered && pthread_atfork(NULL, NULL, forked_child) == 0)
        registered = 1;
#endif
    init_char_flags();
    init_nfc_inert();
    init_case_table();
    if (PyType_Ready(&SegmenterType) < 0 || PyType_Ready(&ScorerType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&core_module);
    if (m == NULL)
        return NULL;
    if (PyModule_AddObjectRef(m, "Segmenter", (PyObject *)&SegmenterType) < 0 ||
        PyModule_AddObjectRef(m, "Scorer", (PyObject *)&ScorerType) < 0 ||
        PyModule_AddIntConstant(m, "ABI", 6) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
