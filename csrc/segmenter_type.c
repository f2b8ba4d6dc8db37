/* The Segmenter type's Python side: pyvi's segmenter made from its model and dictionary, its
 * methods (segment, prepare, normalize, syllabize, cache_size) and its lock, with the parsing
 * of the arguments they share with the Scorer's (max_chars). */

#include "core.h"

static void
Segmenter_dealloc(Segmenter *self)
{
    table_free(&self->lower_attrs);
    table_free(&self->vocab);
    PyMem_RawFree(self->bigrams.keys);
    PyMem_RawFree(self->trigrams.keys);
    table_free(&self->cache);
    PyMem_RawFree(self->short_cache.slots);
    PyMem_RawFree(self->lower_w);
    PyMem_RawFree(self->entries_mem);
    PyMem_RawFree(self->lowers.p);
    work_free(&self->spare);
    if (self->lock)
        PyThread_free_lock(self->lock);
    Py_XDECREF(self->normalize);
    Py_XDECREF(self->nfc);
    Py_XDECREF(self->markup);
    Py_XDECREF(self->s_lower);
    Py_XDECREF(self->s_isupper);
    Py_XDECREF(self->s_istitle);
    Py_XDECREF(self->s_isdigit);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

#if defined(__GNUC__) || defined(__clang__)
#define LOAD(p) __atomic_load_n(p, __ATOMIC_RELAXED)
#define STORE(p, v) __atomic_store_n(p, v, __ATOMIC_RELAXED)
#else
#define LOAD(p) (*(volatile unsigned long *)(p))
#define STORE(p, v) (*(volatile unsigned long *)(p) = (v))
#endif

int
seg_lock(Segmenter *seg)
{
    if (seg->lock == NULL) {
        PyErr_SetString(PyExc_ValueError, "this Segmenter has no model (its __init__ did not run)");
        return -1;
    }
    unsigned long me = PyThread_get_thread_ident();
    /* (another thread reads owner while it is set: whatever it reads, it is not its own) */
    if (LOAD(&seg->owner) == me) {
        seg->depth++;
        return 0;
    }
    if (seg->forks != core_forks) {
        /* A child of a fork: the lock may be held by a thread the child does not have. (The
         * old one is not freed: freeing a held lock is undefined.) */
        PyThread_type_lock lock = PyThread_allocate_lock();
        if (lock == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        if (seg->owner != 0) {
            /* A call held the cache when the process forked: its thread may have been
             * halfway through changing a table (a slot array freed, the new one not yet in
             * place), which no thread here will finish. The cache and the spare buffers start
             * anew, empty; the old ones are left as they are (freeing them could free what
             * the half-done change already freed). */
            seg->cache = (Table){.unit = 4};
            seg->short_cache = (ShortMap){0};
            seg->entries = NULL;
            seg->entries_cap = 0;
            seg->entries_mem = NULL;
            seg->lowers = (CpBuf){0};
            seg->spare = (Work){0};
            seg->spare.pending_keys.unit = 4;
            seg->generation++;
            seg->fork_generation = seg->generation;
        }
        seg->lock = lock;
        seg->owner = 0;
        seg->depth = 0;
        seg->saved = NULL;
        seg->spare_busy = 0;
        seg->forks = core_forks;
    }
    if (!PyThread_acquire_lock(seg->lock, NOWAIT_LOCK)) {
        Py_BEGIN_ALLOW_THREADS
        PyThread_acquire_lock(seg->lock, WAIT_LOCK);
        Py_END_ALLOW_THREADS
    }
    STORE(&seg->owner, me);
    seg->depth = 1;
    return 0;
}

void
seg_unlock(Segmenter *seg)
{
    if (--seg->depth == 0) {
        STORE(&seg->owner, 0UL);
        PyThread_release_lock(seg->lock);
    }
}

static int
Segmenter_init(Segmenter *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"crfsuite", "words", "cache_limit", "markup", NULL};
    Py_buffer model, words;
    Py_ssize_t limit = 1 << 17;
    PyObject *markup = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "y*y*|nO", kwlist, &model, &words, &limit,
                                     &markup))
        return -1;
    if (markup != NULL && markup != Py_None) {
        if (!PyCallable_Check(markup)) {
            PyErr_SetString(PyExc_TypeError, "markup must be callable");
            PyBuffer_Release(&model);
            PyBuffer_Release(&words);
            return -1;
        }
        Py_XSETREF(self->markup, Py_NewRef(markup));
    }
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
    /* (made last: a segmenter with a lock is one whose model is read) */
    if (self->lock == NULL && (self->lock = PyThread_allocate_lock()) == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    self->forks = core_forks;
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

static PyObject *
Segmenter_entry_both_ways(Segmenter *self, PyObject *syllable)
{
    if (!PyUnicode_Check(syllable)) {
        PyErr_SetString(PyExc_TypeError, "a syllable is a str");
        return NULL;
    }
    CpBuf b = {0};
    PyObject *out = NULL;
    if (cp_from_str(&b, syllable, NULL) == 0 && seg_lock(self) == 0) {
        out = entry_both_ways(self, b.p, b.n);
        seg_unlock(self);
    }
    PyMem_RawFree(b.p);
    return out;
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
    {"_entry_both_ways", (PyCFunction)Segmenter_entry_both_ways, METH_O,
     "_entry_both_ways(syllable): its cache entry made without Python (None where that way "
     "does not take it) and by Python's str methods, for the tests."},
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
