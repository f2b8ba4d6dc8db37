/* json_lines, the module's reader of a chunk of JSON lines for the stream (nlpkit.batch):
 * each line's text and title read by jsonfield.c, as code points for Scorer.scores_cp, with
 * the GIL released while it reads. */

#include "core.h"

static int
json_key(PyObject *o, JsonKey *k)
{
    if (!PyBytes_Check(o)) {
        PyErr_SetString(PyExc_TypeError, "keys must be bytes (UTF-8)");
        return -1;
    }
    k->s = PyBytes_AS_STRING(o);
    k->n = PyBytes_GET_SIZE(o);
    return 0;
}

/* json_lines(chunk, sep, text_key, title_key, reserved, limit, skip_first): the lines of a
 * chunk (each ended by sep, b"\n" or b"\r"; with b"\n", a CR before it is not part of the
 * line) read for their text and title (jsonfield.c). Returns (marks, texts, bounds): marks,
 * three int64 a line: its start, its end, and the position of its object's closing brace, or
 * -1 for a line left to orjson (longer than limit, the first with skip_first, or any line
 * json_fields does not take); texts, the code points (4 bytes each, Scorer.scores_cp) of each
 * taken line's title and text joined as nlpkit.text.join_title joins them, one after the
 * other; bounds, int64, where each starts in texts, and the end. */
PyObject *
core_json_lines(PyObject *module, PyObject *args)
{
    Py_buffer chunk;
    PyObject *text_key, *title_key, *reserved;
    char sep;
    Py_ssize_t limit;
    int skip_first;
    if (!PyArg_ParseTuple(args, "y*cOOO!np", &chunk, &sep, &text_key, &title_key, &PyTuple_Type,
                          &reserved, &limit, &skip_first))
        return NULL;
    PyObject *marks = NULL, *texts = NULL, *bounds = NULL, *result = NULL;
    JsonKeys keys;
    if (json_key(text_key, &keys.text) < 0 || json_key(title_key, &keys.title) < 0)
        goto done;
    keys.n_reserved = (int)PyTuple_GET_SIZE(reserved);
    if (keys.n_reserved > 8) {
        PyErr_SetString(PyExc_ValueError, "at most 8 reserved keys");
        goto done;
    }
    for (int i = 0; i < keys.n_reserved; i++)
        if (json_key(PyTuple_GET_ITEM(reserved, i), &keys.reserved[i]) < 0)
            goto done;
    const unsigned char *c = chunk.buf, *end = c + chunk.len;
    Py_ssize_t lines = 0;
    for (const unsigned char *p = c; p < end; lines++) {
        const unsigned char *e = memchr(p, sep, (size_t)(end - p));
        p = e ? e + 1 : end;
    }
    marks = PyBytes_FromStringAndSize(NULL, lines * 3 * (Py_ssize_t)sizeof(int64_t));
    bounds = PyBytes_FromStringAndSize(NULL, (lines + 1) * (Py_ssize_t)sizeof(int64_t));
    /* (a title, "\n" and a text are fewer code points than the bytes of the line that holds
     * them in quotes) */
    texts = PyBytes_FromStringAndSize(NULL, chunk.len * (Py_ssize_t)sizeof(cp_t));
    if (marks == NULL || bounds == NULL || texts == NULL)
        goto done;
    int64_t *mk = (int64_t *)PyBytes_AS_STRING(marks), *bd = (int64_t *)PyBytes_AS_STRING(bounds);
    cp_t *t0 = (cp_t *)PyBytes_AS_STRING(texts), *t = t0;
    Py_ssize_t taken = 0, i = 0;
    /* No Python from here to the end of the lines: other threads run meanwhile. The buffers
     * are this call's own, or held (the chunk, the keys in the arguments). */
    Py_BEGIN_ALLOW_THREADS
    for (const unsigned char *p = c; p < end; i++) {
        const unsigned char *e = memchr(p, sep, (size_t)(end - p));
        const unsigned char *stop = e ? e : end;
        if (sep == '\n' && stop > p && stop[-1] == '\r')
            stop--;
        JsonFields f;
        int ok = !(skip_first && i == 0) && stop - p <= limit &&
                 json_fields(p, stop - p, &keys, &f);
        cp_t *title_end = t, *text, *text_end = NULL;
        if (ok && f.title)
            ok = (title_end = json_string_cp(f.title, f.title_end, f.title_escaped, t)) != NULL;
        if (ok) {
            text = title_end + (title_end > t);
            ok = (text_end = json_string_cp(f.text, f.text_end, f.text_escaped, text)) != NULL;
        }
        mk[3 * i] = p - c;
        mk[3 * i + 1] = stop - c;
        mk[3 * i + 2] = ok ? f.close - c : -1;
        if (ok) {
            if (title_end > t) {
                if (text_end > text)
                    *title_end = '\n'; /* title and text, a line each */
                else
                    text_end = title_end; /* the title alone */
            }
            bd[taken++] = t - t0;
            t = text_end;
        }
        p = e ? e + 1 : end;
    }
    bd[taken] = t - t0;
    Py_END_ALLOW_THREADS
    if (_PyBytes_Resize(&texts, (t - t0) * (Py_ssize_t)sizeof(cp_t)) < 0 ||
        _PyBytes_Resize(&bounds, (taken + 1) * (Py_ssize_t)sizeof(int64_t)) < 0)
        goto done;
    result = PyTuple_Pack(3, marks, texts, bounds);
done:
    Py_XDECREF(marks);
    Py_XDECREF(texts);
    Py_XDECREF(bounds);
    PyBuffer_Release(&chunk);
    return result;
}
