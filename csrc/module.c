/* The Python side of nlpkit._core: the Segmenter and Scorer types, the module, its predict. */

#include "core.h"

/* --- The Segmenter type -------------------------------------------------------------- */

/* The per-call buffers: the segmenter's own while no other call holds them (a call that
 * re-enters, from another thread or a finaliser, gets buffers of its own). */
static Work *
take_work(Segmenter *seg, int *own)
{
    if (!seg->spare_busy) {
        seg->spare_busy = 1;
        *own = 0;
        return &seg->spare;
    }
    Work *w = PyMem_Calloc(1, sizeof(Work));
    if (w == NULL)
        PyErr_NoMemory();
    else
        w->pending_keys.unit = 4;
    *own = 1;
    return w;
}

static void
give_work(Segmenter *seg, Work *w, int own)
{
    if (own) {
        work_free(w);
        PyMem_Free(w);
    }
    else
        seg->spare_busy = 0;
}

static void
Segmenter_dealloc(Segmenter *self)
{
    table_free(&self->lower_attrs);
    table_free(&self->vocab);
    PyMem_Free(self->bigrams.keys);
    PyMem_Free(self->trigrams.keys);
    table_free(&self->cache);
    PyMem_Free(self->short_cache.slots);
    PyMem_Free(self->lower_w);
    PyMem_Free(self->entries_mem);
    PyMem_Free(self->lowers.p);
    work_free(&self->spare);
    Py_XDECREF(self->normalize);
    Py_XDECREF(self->nfc);
    Py_XDECREF(self->s_lower);
    Py_XDECREF(self->s_isupper);
    Py_XDECREF(self->s_istitle);
    Py_XDECREF(self->s_isdigit);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int
Segmenter_init(Segmenter *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"crfsuite", "words", "cache_limit", NULL};
    Py_buffer model, words;
    Py_ssize_t limit = 1 << 17;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "y*y*|n", kwlist, &model, &words, &limit))
        return -1;
    self->lower_attrs.unit = 1;
    self->vocab.unit = 1;
    self->cache.unit = 4;
    self->spare.pending_keys.unit = 4;
    self->limit = limit;
    int status = -1;
    if (load_crfsuite(self, model.buf, model.len) < 0 || load_words(self, words.buf, words.len) < 0)
        goto done;
    PyObject *unicodedata = PyImport_ImportModule("unicodedata");
    if (unicodedata == NULL)
        goto done;
    self->normalize = PyObject_GetAttrString(unicodedata, "normalize");
    Py_DECREF(unicodedata);
    self->nfc = PyUnicode_InternFromString("NFC");
    self->s_lower = PyUnicode_InternFromString("lower");
    self->s_isupper = PyUnicode_InternFromString("isupper");
    self->s_istitle = PyUnicode_InternFromString("istitle");
    self->s_isdigit = PyUnicode_InternFromString("isdigit");
    if (!self->normalize || !self->nfc || !self->s_lower || !self->s_isupper ||
        !self->s_istitle || !self->s_isdigit)
        goto done;
    status = 0;
done:
    PyBuffer_Release(&model);
    PyBuffer_Release(&words);
    return status;
}

/* --- Segmenter methods --------------------------------------------------------------- */

/* The arguments of the methods, parsed in one place each: a text that must be a str (segment,
 * syllabize), a text and max_chars (prepare, normalize; the text is checked by the caller, as
 * the Python path refuses it with its own message). max_chars as the Python path takes it:
 * None (-1 here) or a whole number >= 0 (the Scorer's too). */
Py_ssize_t
max_chars_arg(PyObject *o, int *ok)
{
    *ok = 1;
    if (o == Py_None)
        return -1;
    Py_ssize_t v = PyNumber_AsSsize_t(o, PyExc_OverflowError);
    if (v == -1 && PyErr_Occurred())
        *ok = 0;
    else if (v < 0) {
        PyErr_SetString(PyExc_ValueError, "max_chars must be None or >= 0");
        *ok = 0;
    }
    return v;
}

static int
text_arg(PyObject *text)
{
    if (PyUnicode_Check(text))
        return 0;
    PyErr_Format(PyExc_TypeError, "text must be str, not %.100s", Py_TYPE(text)->tp_name);
    return -1;
}

static int
text_and_max_chars(PyObject *args, PyObject **text, Py_ssize_t *max_chars)
{
    PyObject *mc = Py_None;
    if (!PyArg_ParseTuple(args, "O|O", text, &mc))
        return -1;
    int ok;
    *max_chars = max_chars_arg(mc, &ok);
    return ok ? 0 : -1;
}

/* segment's and syllabize's first steps: the text's NFC form (returned, a new reference; NULL
 * on failure) into w->text, and its syllables into w. */
static PyObject *
nfc_syllables(Segmenter *self, PyObject *text, Work *w)
{
    PyObject *t = nfc(self, text);
    if (t != NULL &&
        (cp_from_str(&w->text, t, NULL) < 0 || syllabize(w->text.p, w->text.n, w) < 0))
        Py_CLEAR(t);
    return t;
}

static PyObject *
Segmenter_segment(Segmenter *self, PyObject *text)
{
    if (text_arg(text) < 0)
        return NULL;
    if (has_surrogates(text))
        Py_RETURN_NONE; /* the Python path fails as pyvi does */
    int own;
    Work *w = take_work(self, &own);
    if (w == NULL)
        return NULL;
    PyObject *out = NULL, *t = nfc_syllables(self, text, w);
    if (t == NULL)
        goto done;
    if (w->nsyl == 0) {
        out = Py_NewRef(text); /* pyvi returns its input unchanged (not normalised) */
        goto done;
    }
    if (lookup_syllables(self, w) < 0 || separators(self, w) < 0)
        goto done;
    out = joined(w->text.p, w);
done:
    Py_XDECREF(t);
    give_work(self, w, own);
    return out;
}

/* prepare(text, max_chars): text.prepare's result, or None where the Python path must
 * answer (an invalid text, which it refuses with the right message; a text without
 * syllables). */
static PyObject *
Segmenter_prepare(Segmenter *self, PyObject *args)
{
    PyObject *text;
    Py_ssize_t max_chars;
    if (text_and_max_chars(args, &text, &max_chars) < 0)
        return NULL;
    int own;
    Work *w = take_work(self, &own);
    if (w == NULL)
        return NULL;
    PyObject *out = NULL;
    int status = prepare_syllables(self, text, max_chars, w);
    if (status == FAILED)
        goto done;
    if (status != DONE) {
        out = Py_NewRef(Py_None);
        goto done;
    }
    if (separators(self, w) < 0)
        goto done;
    out = joined(w->text.p, w);
done:
    give_work(self, w, own);
    return out;
}

/* normalize(text, max_chars): text.normalize's result, or None for an invalid text. */
static PyObject *
Segmenter_normalize(Segmenter *self, PyObject *args)
{
    PyObject *text;
    Py_ssize_t max_chars;
    if (text_and_max_chars(args, &text, &max_chars) < 0)
        return NULL;
    if (!PyUnicode_Check(text) || !has_content(text))
        Py_RETURN_NONE;
    int own;
    Work *w = take_work(self, &own);
    if (w == NULL)
        return NULL;
    PyObject *out = NULL;
    if (normalize_prefix(self, text, max_chars, w, 1) == 0)
        out = str_from_cp(w->text.p, w->text.n);
    give_work(self, w, own);
    return out;
}

/* syllabize(text): (NFC text, syllables), as nlpkit.segmenter.syllabize. */
static PyObject *
Segmenter_syllabize(Segmenter *self, PyObject *text)
{
    if (text_arg(text) < 0)
        return NULL;
    int own;
    Work *w = take_work(self, &own);
    if (w == NULL)
        return NULL;
    PyObject *out = NULL, *list = NULL, *t = nfc_syllables(self, text, w);
    if (t == NULL)
        goto done;
    list = PyList_New(w->nsyl);
    if (list == NULL)
        goto done;
    for (Py_ssize_t i = 0; i < w->nsyl; i++) {
        PyObject *s = str_from_cp(w->text.p + w->syl_start[i], w->syl_len[i]);
        if (s == NULL)
            goto done;
        PyList_SET_ITEM(list, i, s);
    }
    out = PyTuple_Pack(2, t, list);
done:
    Py_XDECREF(t);
    Py_XDECREF(list);
    give_work(self, w, own);
    return out;
}

static PyObject *
Segmenter_cache_size(Segmenter *self, PyObject *Py_UNUSED(ignored))
{
    return PyLong_FromSsize_t(self->cache.n);
}

static PyMethodDef Segmenter_methods[] = {
    {"segment", (PyCFunction)Segmenter_segment, METH_O,
     "segment(text): pyvi's segmentation, or None for a text with lone surrogates."},
    {"prepare", (PyCFunction)Segmenter_prepare, METH_VARARGS,
     "prepare(text, max_chars=None): nlpkit.text.prepare(text, max_chars=max_chars), or None "
     "where the Python path must answer."},
    {"normalize", (PyCFunction)Segmenter_normalize, METH_VARARGS,
     "normalize(text, max_chars=None): nlpkit.text.normalize, or None for an invalid text."},
    {"syllabize", (PyCFunction)Segmenter_syllabize, METH_O,
     "syllabize(text): (NFC text, syllables), as nlpkit.segmenter.syllabize."},
    {"cache_size", (PyCFunction)Segmenter_cache_size, METH_NOARGS,
     "The number of distinct syllables in the cache."},
    {NULL}};

PyTypeObject SegmenterType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "nlpkit._core.Segmenter",
    .tp_doc = PyDoc_STR("Segmenter(crfsuite, words, cache_limit=131072): pyvi's word "
                        "segmenter from its crfsuite model and dictionary."),
    .tp_basicsize = sizeof(Segmenter),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Segmenter_init,
    .tp_dealloc = (destructor)Segmenter_dealloc,
    .tp_methods = Segmenter_methods,
};

/* --- The Scorer type (built in scorer.c) ---------------------------------------------- */

static Segmenter *
scorer_segmenter(Scorer *self)
{
    if (self->seg == NULL)
        PyErr_SetString(PyExc_ValueError, "this Scorer has no segmenter");
    return self->seg;
}

/* The texts as a tuple of their own: scoring may call Python (a syllable first seen), and
 * Python code run meanwhile (a finaliser, another thread) could change a list. */
static PyObject *
texts_tuple(PyObject *texts)
{
    PyObject *fast = PySequence_Fast(texts, "texts must be a sequence");
    if (fast == NULL || PyTuple_CheckExact(fast))
        return fast;
    PyObject *t = PySequence_Tuple(fast);
    Py_DECREF(fast);
    return t;
}

/* scores(texts, out, prepared=False): the scores of texts (raw, or already prepared)
 * into out (a writable float64 buffer of len(texts) * k); returns the positions of the
 * texts left to the Python path, or None if a text is invalid (not a str, or empty: the
 * Python path then says which and why). */
static PyObject *
Scorer_scores(Scorer *self, PyObject *args)
{
    PyObject *texts;
    Py_buffer out;
    int prepared = 0;
    if (!PyArg_ParseTuple(args, "Ow*|p", &texts, &out, &prepared))
        return NULL;
    PyObject *fast = NULL, *todo = NULL, *result = NULL;
    Work *w = NULL;
    int own = 0;
    if (!prepared && !scorer_segmenter(self))
        goto done;
    fast = texts_tuple(texts);
    if (fast == NULL)
        goto done;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    if (!PyBuffer_IsContiguous(&out, 'C') ||
        out.len != n * self->k * (Py_ssize_t)sizeof(double)) {
        PyErr_SetString(PyExc_ValueError, "out must be a C-contiguous float64 buffer of n x k");
        goto done;
    }
    todo = PyList_New(0);
    if (todo == NULL)
        goto done;
    own = 2;
    w = self->seg ? take_work(self->seg, &own) : PyMem_Calloc(1, sizeof(Work));
    if (w == NULL) {
        if (!PyErr_Occurred())
            PyErr_NoMemory();
        goto done;
    }
    PyObject **items = PySequence_Fast_ITEMS(fast);
    double *o = out.buf;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t m;
        int status = prepared ? score_prepared(self, items[i], w, o + i * self->k, &m)
                              : score_text(self, items[i], w, o + i * self->k, &m);
        if (status == FAILED)
            goto done;
        if (status == INVALID) {
            result = Py_NewRef(Py_None);
            goto done;
        }
        if (status == NEEDS_PYTHON) {
            PyObject *index = PyLong_FromSsize_t(i);
            if (index == NULL || PyList_Append(todo, index) < 0) {
                Py_XDECREF(index);
                goto done;
            }
            Py_DECREF(index);
        }
    }
    result = Py_NewRef(todo);
done:
    if (w) {
        if (own == 2) {
            work_free(w);
            PyMem_Free(w);
        }
        else
            give_work(self->seg, w, own);
    }
    Py_XDECREF(fast);
    Py_XDECREF(todo);
    PyBuffer_Release(&out);
    return result;
}

/* The number of leading classes an answer is chosen among: all k by default, or the second
 * argument (a model's topics without its out-of-scope class). */
static int
among_arg(Scorer *self, PyObject *const *args, Py_ssize_t nargs, const char *name)
{
    if (nargs < 1 || nargs > 2) {
        PyErr_Format(PyExc_TypeError, "%s() takes 1 or 2 arguments", name);
        return -1;
    }
    if (nargs == 1)
        return self->k;
    long among = PyLong_AsLong(args[1]);
    if (among == -1 && PyErr_Occurred())
        return -1;
    if (among < 1 || among > self->k) {
        PyErr_Format(PyExc_ValueError, "%s(): among must be from 1 to %d", name, self->k);
        return -1;
    }
    return (int)among;
}

/* predict(texts, among=k): the number of each text's best class among the first `among`,
 * -1 where the Python path must answer; None if a text is invalid. */
static PyObject *
Scorer_predict(Scorer *self, PyObject *const *args, Py_ssize_t nargs)
{
    int among = among_arg(self, args, nargs, "predict");
    if (among < 0)
        return NULL;
    PyObject *texts = args[0];
    if (!scorer_segmenter(self))
        return NULL;
    PyObject *fast = texts_tuple(texts);
    if (fast == NULL)
        return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    PyObject *result = NULL, *list = PyList_New(n);
    double *s = PyMem_Malloc((size_t)self->k * sizeof(double));
    int own;
    Work *w = take_work(self->seg, &own);
    if (list == NULL || s == NULL || w == NULL) {
        if (s == NULL)
            PyErr_NoMemory();
        goto done;
    }
    PyObject **items = PySequence_Fast_ITEMS(fast);
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t m;
        int status = score_text(self, items[i], w, s, &m);
        if (status == FAILED)
            goto done;
        if (status == INVALID) {
            result = Py_NewRef(Py_None);
            goto done;
        }
        PyObject *v = PyLong_FromLong(status == DONE ? argmax(s, among) : -1);
        if (v == NULL)
            goto done;
        PyList_SET_ITEM(list, i, v);
    }
    result = Py_NewRef(list);
done:
    if (w)
        give_work(self->seg, w, own);
    PyMem_Free(s);
    Py_XDECREF(list);
    Py_DECREF(fast);
    return result;
}

/* The best class of one text among the first `among`; -1 where the Python path must answer
 * (an invalid text included), -2 on failure (an exception is set). */
static int
best_class(Scorer *self, PyObject *text, int among)
{
    if (!scorer_segmenter(self))
        return -2;
    double s[64];
    double *sp = self->k <= 64 ? s : PyMem_Malloc((size_t)self->k * sizeof(double));
    if (sp == NULL)
        return PyErr_NoMemory(), -2;
    int own, best = -2;
    Work *w = take_work(self->seg, &own);
    if (w != NULL) {
        Py_ssize_t m;
        int status = score_text(self, text, w, sp, &m);
        if (status != FAILED)
            best = status == DONE ? argmax(sp, among) : -1;
        give_work(self->seg, w, own);
    }
    if (sp != s)
        PyMem_Free(sp);
    return best;
}

/* predict_one(text, among=k): its best class among the first `among`, or -1 where the
 * Python path must answer (an invalid text included). */
static PyObject *
Scorer_predict_one(Scorer *self, PyObject *const *args, Py_ssize_t nargs)
{
    int among = among_arg(self, args, nargs, "predict_one");
    if (among < 0)
        return NULL;
    int best = best_class(self, args[0], among);
    return best == -2 ? NULL : PyLong_FromLong(best);
}

/* topic(texts, n_jobs, allow_none): Predictor.predict's commonest calls in one C call: the
 * name of the best of `names` for one str, or the list of them for a list or tuple of str,
 * with n_jobs 1 and allow_none False; None for anything else, which the Python path answers
 * (or refuses with the right error). */
static PyObject *
Scorer_topic(Scorer *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "topic() takes 3 arguments");
        return NULL;
    }
    PyObject *texts = args[0], *n_jobs = args[1];
    int overflow;
    if (self->names == NULL || !PyLong_CheckExact(n_jobs) ||
        PyLong_AsLongAndOverflow(n_jobs, &overflow) != 1 || args[2] != Py_False)
        Py_RETURN_NONE;
    int among = (int)PyTuple_GET_SIZE(self->names);
    if (PyUnicode_CheckExact(texts)) {
        int best = best_class(self, texts, among);
        if (best == -2)
            return NULL;
        if (best < 0)
            Py_RETURN_NONE;
        return Py_NewRef(PyTuple_GET_ITEM(self->names, best));
    }
    if (!PyList_CheckExact(texts) && !PyTuple_CheckExact(texts))
        Py_RETURN_NONE;
    PyObject *all = texts_tuple(texts);
    if (all == NULL)
        return NULL;
    Py_ssize_t n = PyTuple_GET_SIZE(all);
    PyObject *out = PyList_New(n);
    for (Py_ssize_t i = 0; out != NULL && i < n; i++) {
        int best = best_class(self, PyTuple_GET_ITEM(all, i), among);
        if (best < 0) {
            Py_CLEAR(out);
            if (best == -1)
                out = Py_NewRef(Py_None); /* a text for the Python path: it answers for all */
            break;
        }
        PyList_SET_ITEM(out, i, Py_NewRef(PyTuple_GET_ITEM(self->names, best)));
    }
    Py_DECREF(all);
    return out;
}

/* weights(text, prepared=False): (columns, weights) of a text's TF-IDF row in column order,
 * or None where the Python path must answer. */
static PyObject *
Scorer_weights(Scorer *self, PyObject *args)
{
    PyObject *text;
    int prepared = 0;
    if (!PyArg_ParseTuple(args, "O|p", &text, &prepared))
        return NULL;
    if (!prepared && !scorer_segmenter(self))
        return NULL;
    int own = 2;
    Work *w = self->seg ? take_work(self->seg, &own) : PyMem_Calloc(1, sizeof(Work));
    if (w == NULL)
        return PyErr_NoMemory();
    PyObject *result = NULL, *cols = NULL, *ws = NULL;
    Py_ssize_t m;
    int status = prepared ? score_prepared(self, text, w, NULL, &m)
                          : score_text(self, text, w, NULL, &m);
    if (status == FAILED)
        goto done;
    if (status != DONE) {
        result = Py_NewRef(Py_None);
        goto done;
    }
    cols = PyList_New(m);
    ws = PyList_New(m);
    if (cols == NULL || ws == NULL)
        goto done;
    for (Py_ssize_t i = 0; i < m; i++) {
        PyObject *c = PyLong_FromUnsignedLong(w->cols[i]), *v = PyFloat_FromDouble(w->s0[i]);
        if (c == NULL || v == NULL) {
            Py_XDECREF(c);
            Py_XDECREF(v);
            goto done;
        }
        PyList_SET_ITEM(cols, i, c);
        PyList_SET_ITEM(ws, i, v);
    }
    result = PyTuple_Pack(2, cols, ws);
done:
    Py_XDECREF(cols);
    Py_XDECREF(ws);
    if (own == 2) {
        work_free(w);
        PyMem_Free(w);
    }
    else
        give_work(self->seg, w, own);
    return result;
}

static PyMethodDef Scorer_methods[] = {
    {"scores", (PyCFunction)Scorer_scores, METH_VARARGS,
     "scores(texts, out, prepared=False): scores into out; the positions left to Python, "
     "or None for an invalid text."},
    {"predict", (PyCFunction)(void (*)(void))Scorer_predict, METH_FASTCALL,
     "predict(texts, among=k): class numbers among the first `among` (-1: left to Python), "
     "or None for an invalid text."},
    {"predict_one", (PyCFunction)(void (*)(void))Scorer_predict_one, METH_FASTCALL,
     "predict_one(text, among=k): the class number, or -1 where Python must answer."},
    {"topic", (PyCFunction)(void (*)(void))Scorer_topic, METH_FASTCALL,
     "topic(text, n_jobs, allow_none): the best of `names` for one str with n_jobs 1 and "
     "allow_none False, else None (the Python path answers)."},
    {"weights", (PyCFunction)Scorer_weights, METH_VARARGS,
     "weights(text, prepared=False): (columns, weights), or None where Python must answer."},
    {NULL}};

PyTypeObject ScorerType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "nlpkit._core.Scorer",
    .tp_doc = PyDoc_STR("Scorer(segmenter, terms, idf, coef, intercept, ngram_range, "
                        "sublinear_tf, max_chars, tf, names=None): a linear TF-IDF model; "
                        "terms are a vocabulary file's bytes (checked) or a sequence of str."),
    .tp_basicsize = sizeof(Scorer),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Scorer_init,
    .tp_dealloc = (destructor)Scorer_dealloc,
    .tp_methods = Scorer_methods,
};

/* ---------------------------------------------------------------------------------------
 * The module
 * ------------------------------------------------------------------------------------- */

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
    PyObject *small[8], **all = n + 1 <= 8 ? small : PyMem_Malloc((size_t)(n + 1) * sizeof(PyObject *));
    if (all == NULL)
        return PyErr_NoMemory();
    all[0] = self;
    for (Py_ssize_t i = 0; i < n; i++)
        all[i + 1] = args[i];
    PyObject *out = PyObject_Vectorcall(method_python, all, nargs + 1, kwnames);
    if (all != small)
        PyMem_Free(all);
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
    {"all_finite", core_all_finite, METH_VARARGS,
     "all_finite(float64 buffer, positive=False): whether every value is finite (and > 0)."},
    {"nfc_inert", core_nfc_inert, METH_O,
     "nfc_inert(code point): whether the core takes a text of such characters as NFC."},
    {"predict_method", core_predict_method, METH_VARARGS,
     "predict_method(cls, python_predict, signature, switch): Predictor.predict in C."},
    {"number_tokens", core_number_tokens, METH_O,
     "number_tokens(texts): (ids, docs, tokens), every token of the texts numbered (words.c)."},
    {"count_ngrams", core_count_ngrams, METH_VARARGS,
     "count_ngrams(words, docs, n_words, unigrams, bigrams): (rows, terms, tf, bigram_keys), "
     "the terms of numbered words counted per text (words.c)."},
    {NULL}};

static struct PyModuleDef core_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "nlpkit._core",
    .m_doc = "The compiled predict path of nlpkit (see nlpkit.compiled).",
    .m_size = -1,
    .m_methods = core_methods,
};

PyMODINIT_FUNC
PyInit__core(void)
{
    init_char_flags();
    init_nfc_inert();
    if (PyType_Ready(&SegmenterType) < 0 || PyType_Ready(&ScorerType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&core_module);
    if (m == NULL)
        return NULL;
    if (PyModule_AddObjectRef(m, "Segmenter", (PyObject *)&SegmenterType) < 0 ||
        PyModule_AddObjectRef(m, "Scorer", (PyObject *)&ScorerType) < 0 ||
        PyModule_AddIntConstant(m, "ABI", 3) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}

