/* The Scorer type's Python side: its methods (scores, scores_cp, predict, predict_one, topic,
 * weights), each a call into scorer.c for a batch of texts or one, and the type; its init and
 * dealloc, which build and free the model's tables, are in scorer.c. */

#include "core.h"

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

/* Text i's position appended to the list of those left to the Python path; -1 on error. */
static int
append_index(PyObject *todo, Py_ssize_t i)
{
    PyObject *index = PyLong_FromSsize_t(i);
    int status = index == NULL ? -1 : PyList_Append(todo, index);
    Py_XDECREF(index);
    return status;
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
    w = self->seg ? take_work(self->seg, &own) : PyMem_RawCalloc(1, sizeof(Work));
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
        if (status == NEEDS_PYTHON && append_index(todo, i) < 0)
            goto done;
    }
    result = Py_NewRef(todo);
done:
    if (w) {
        if (own == 2) {
            work_free(w);
            PyMem_RawFree(w);
        }
        else
            give_work(self->seg, w, own);
    }
    Py_XDECREF(fast);
    Py_XDECREF(todo);
    PyBuffer_Release(&out);
    return result;
}

/* scores_cp(data, bounds, out): the scores of the texts data[bounds[i]:bounds[i + 1]]
 * (data: code points, four bytes each in the machine's order; bounds: a buffer of int64) into
 * out, as scores() gives those of the same texts as str; returns the
 * positions of the texts left to the Python path (an invalid one included: the Python path
 * says why). */
static PyObject *
Scorer_scores_cp(Scorer *self, PyObject *args)
{
    Py_buffer data, bounds, out;
    if (!PyArg_ParseTuple(args, "y*y*w*", &data, &bounds, &out))
        return NULL;
    PyObject *todo = NULL, *result = NULL;
    Work *w = NULL;
    int own = 0;
    cp_t *copy = NULL;
    const cp_t *d = data.buf;
    Py_ssize_t n = bounds.len / (Py_ssize_t)sizeof(int64_t) - 1, size = data.len / 4;
    if (!scorer_segmenter(self))
        goto done;
    if (n < 0 || bounds.len % (Py_ssize_t)sizeof(int64_t) || data.len % 4 ||
        !PyBuffer_IsContiguous(&out, 'C') || out.len != n * self->k * (Py_ssize_t)sizeof(double)) {
        PyErr_SetString(PyExc_ValueError, "data must be code points (4 bytes each), bounds n + 1 "
                                          "int64 and out a C-contiguous float64 buffer of n x k");
        goto done;
    }
    int64_t first, last;
    memcpy(&first, bounds.buf, sizeof first); /* (the buffers need not be aligned) */
    for (Py_ssize_t i = 0; i < n; i++) {
        memcpy(&last, (const char *)bounds.buf + (i + 1) * 8, sizeof last);
        if (first < 0 || first > last || last > size) {
            PyErr_SetString(PyExc_ValueError, "bounds must rise within the data");
            goto done;
        }
        first = last;
    }
    if ((uintptr_t)d % sizeof(cp_t)) {
        if ((copy = PyMem_RawMalloc((size_t)data.len + 1)) == NULL) {
            PyErr_NoMemory();
            goto done;
        }
        d = memcpy(copy, data.buf, (size_t)data.len);
    }
    todo = PyList_New(0);
    if (todo == NULL || (w = take_work(self->seg, &own)) == NULL)
        goto done;
    double *o = out.buf;
    /* Without the interpreter's lock: other threads (a stream's reading and writing) run
     * meanwhile. The buffers stay valid: they are held, and a caller that changes a buffer it
     * gave while the call runs gets what it asked for. */
    Segmenter *seg = self->seg;
    seg->saved = PyEval_SaveThread();
    int status = DONE;
    for (Py_ssize_t i = 0; i < n && status != FAILED; i++) {
        Py_ssize_t m;
        int64_t b[2];
        memcpy(b, (const char *)bounds.buf + i * 8, sizeof b);
        status = score_cp(self, d + b[0], (Py_ssize_t)(b[1] - b[0]), w, o + i * self->k, &m);
        if (status != DONE && status != FAILED) {
            PyThreadState *held = gil_hold(seg);
            if (append_index(todo, i) < 0)
                status = FAILED;
            gil_drop(seg, held);
        }
    }
    gil_hold(seg);
    if (status == FAILED) {
        if (!PyErr_Occurred())
            PyErr_NoMemory(); /* (an allocation failed without the interpreter's lock) */
        goto done;
    }
    result = Py_NewRef(todo);
done:
    if (w)
        give_work(self->seg, w, own);
    PyMem_RawFree(copy);
    Py_XDECREF(todo);
    PyBuffer_Release(&data);
    PyBuffer_Release(&bounds);
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
    double *s = PyMem_RawMalloc((size_t)self->k * sizeof(double));
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
    PyMem_RawFree(s);
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
    double *sp = self->k <= 64 ? s : PyMem_RawMalloc((size_t)self->k * sizeof(double));
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
        PyMem_RawFree(sp);
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
    Work *w = self->seg ? take_work(self->seg, &own) : PyMem_RawCalloc(1, sizeof(Work));
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
        PyMem_RawFree(w);
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
    {"scores_cp", (PyCFunction)Scorer_scores_cp, METH_VARARGS,
     "scores_cp(data, bounds, out): scores of the texts data[bounds[i]:bounds[i+1]] (code "
     "points, 4 bytes each) into out; the positions left to Python."},
    {"weights", (PyCFunction)Scorer_weights, METH_VARARGS,
     "weights(text, prepared=False): (columns, weights), or None where Python must answer."},
    {NULL}};

PyTypeObject ScorerType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "nlpkit._core.Scorer",
    .tp_doc = PyDoc_STR("Scorer(segmenter, terms, idf, coef, intercept, ngram_range, "
                        "sublinear_tf, max_chars, tf, names=None, repeat_title=False): a "
                        "linear TF-IDF model; terms are a vocabulary file's bytes (checked) or "
                        "a sequence of str; repeat_title: the first line's words count twice."),
    .tp_basicsize = sizeof(Scorer),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Scorer_init,
    .tp_dealloc = (destructor)Scorer_dealloc,
    .tp_methods = Scorer_methods,
};
