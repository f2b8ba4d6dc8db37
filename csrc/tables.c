/* Memory of the core: growable arrays, code-point buffers, hash tables (strings, integer keys). */

#include "core.h"

/* ---------------------------------------------------------------------------------------
 * Growable arrays
 * ------------------------------------------------------------------------------------- */

COLD int
grow(void **p, Py_ssize_t *cap, Py_ssize_t need, size_t unit)
{
    if (need <= *cap)
        return 0;
    Py_ssize_t n = *cap ? *cap : 64;
    while (n < need)
        n *= 2;
    void *q = PyMem_RawRealloc(*p, (size_t)n * unit);
    if (q == NULL) {
        no_memory();
        return -1;
    }
    *p = q;
    *cap = n;
    return 0;
}

/* Memory for the large tables looked up at random (a model's rows, its bigram map): on Linux,
 * in 2 MiB pages where the kernel gives them. A look-up into tables of megabytes in 4 KiB
 * pages misses the TLB as often as the cache; one large page covers 512 small ones. Smaller
 * blocks, and other systems, take the interpreter's allocator. */
#define HUGE_PAGE ((size_t)2 << 20)

void *
big_alloc(size_t size)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (size >= HUGE_PAGE) {
        size_t len = (size + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
        char *p = mmap(NULL, len + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                       -1, 0);
        if (p == MAP_FAILED)
            return NULL;
        /* keep the 2 MiB-aligned part, give back the rest */
        char *aligned = (char *)(((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
        if (aligned > p)
            munmap(p, (size_t)(aligned - p));
        munmap(aligned + len, (size_t)(p + len + HUGE_PAGE - aligned - len));
        madvise(aligned, len, MADV_HUGEPAGE); /* a hint: without it, small pages */
        return aligned;
    }
#endif
    return PyMem_RawMalloc(size ? size : 1);
}

void
big_free(void *p, size_t size)
{
    if (p == NULL)
        return;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (size >= HUGE_PAGE) {
        munmap(p, (size + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1));
        return;
    }
#endif
    PyMem_RawFree(p);
}

/* grow, for an array whose items should start on 64-byte cache lines; *raw is what to free */
int
grow_aligned(void **raw, void **p, Py_ssize_t *cap, Py_ssize_t need, size_t unit)
{
    if (need <= *cap)
        return 0;
    Py_ssize_t n = *cap ? *cap : 64;
    while (n < need)
        n *= 2;
    char *r = PyMem_RawMalloc((size_t)n * unit + 64);
    if (r == NULL) {
        no_memory();
        return -1;
    }
    char *a = (char *)(((uintptr_t)r + 63) & ~(uintptr_t)63);
    if (*p)
        memcpy(a, *p, (size_t)*cap * unit);
    PyMem_RawFree(*raw);
    *raw = r;
    *p = a;
    *cap = n;
    return 0;
}

int
cp_extend(CpBuf *b, const cp_t *s, Py_ssize_t n)
{
    if (GROW(b->p, b->cap, b->n + n) < 0)
        return -1;
    memcpy(b->p + b->n, s, (size_t)n * sizeof(cp_t));
    b->n += n;
    return 0;
}

/* A str's code points into b (replacing its content); *surrogates tells whether it holds
 * lone surrogates. */
int
cp_from_str(CpBuf *b, PyObject *s, int *surrogates)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    if (GROW(b->p, b->cap, n + 1) < 0)
        return -1;
    int kind = PyUnicode_KIND(s);
    const void *data = PyUnicode_DATA(s);
    int sur = 0;
    if (kind == PyUnicode_1BYTE_KIND) {
        const Py_UCS1 *d = data;
        for (Py_ssize_t i = 0; i < n; i++)
            b->p[i] = d[i];
    }
    else if (kind == PyUnicode_2BYTE_KIND) {
        const Py_UCS2 *d = data;
        for (Py_ssize_t i = 0; i < n; i++) {
            b->p[i] = d[i];
            sur |= (d[i] >= 0xd800 && d[i] <= 0xdfff);
        }
    }
    else {
        const Py_UCS4 *d = data;
        for (Py_ssize_t i = 0; i < n; i++) {
            b->p[i] = d[i];
            sur |= (d[i] >= 0xd800 && d[i] <= 0xdfff);
        }
    }
    b->n = n;
    if (surrogates)
        *surrogates = sur;
    return 0;
}

/* Append a str's code points to b. */
int
cp_append_str(CpBuf *b, PyObject *s)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    if (GROW(b->p, b->cap, b->n + n + 1) < 0)
        return -1;
    int kind = PyUnicode_KIND(s);
    const void *data = PyUnicode_DATA(s);
    for (Py_ssize_t i = 0; i < n; i++)
        b->p[b->n + i] = PyUnicode_READ(kind, data, i);
    b->n += n;
    return 0;
}

PyObject *
str_from_cp(const cp_t *s, Py_ssize_t n)
{
    return PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, s, n);
}

/* --- Hash tables of string keys (Table, in core.h, and its look-up) ------------------ */

void
table_free(Table *t)
{
    PyMem_RawFree(t->slots);
    PyMem_RawFree(t->recs);
    PyMem_RawFree(t->hashes);
    PyMem_RawFree(t->arena);
    int unit = t->unit;
    memset(t, 0, sizeof(*t));
    t->unit = unit;
}

void
table_clear(Table *t)
{
    if (t->slots)
        memset(t->slots, 0, (size_t)t->nslots * sizeof(Slot));
    t->n = 0;
    t->arena_n = 0;
}

static void
table_place(Slot *slots, Py_ssize_t mask, uint64_t h, Py_ssize_t e, const Record *r)
{
    Py_ssize_t i = (Py_ssize_t)(h & (uint64_t)mask);
    while (slots[i].entry)
        i = (i + 1) & mask;
    slots[i].tag = (uint32_t)(h >> 32);
    slots[i].entry = (int32_t)(e + 1);
    slots[i].offset = (uint32_t)r->offset;
    slots[i].length = r->length;
}

static COLD int
table_rehash(Table *t, Py_ssize_t nslots)
{
    Slot *slots = PyMem_RawCalloc((size_t)nslots, sizeof(Slot));
    if (slots == NULL) {
        no_memory();
        return -1;
    }
    for (Py_ssize_t e = 0; e < t->n; e++)
        table_place(slots, nslots - 1, t->hashes[e], e, &t->recs[e]);
    PyMem_RawFree(t->slots);
    t->slots = slots;
    t->nslots = nslots;
    return 0;
}

/* The entry of `key`, added if absent (*added says which); -1 on failure. */
COLD Py_ssize_t
table_add(Table *t, const void *key, Py_ssize_t n, uint64_t h, int *added)
{
    Py_ssize_t e = table_find(t, key, n, h);
    if (added)
        *added = e < 0;
    if (e >= 0)
        return e;
    if (n > INT32_MAX || t->n >= INT32_MAX - 1 || t->arena_n + n > (Py_ssize_t)UINT32_MAX) {
        PyErr_SetString(PyExc_OverflowError, "table too large");
        return -1;
    }
    if (2 * (t->n + 1) > t->nslots && table_rehash(t, t->nslots ? 2 * t->nslots : 64) < 0)
        return -1;
    if (t->n >= t->cap) {
        Py_ssize_t cap = t->cap ? 2 * t->cap : 64;
        Record *rs = PyMem_RawRealloc(t->recs, (size_t)cap * sizeof(Record));
        if (rs == NULL)
            return no_memory(), -1;
        t->recs = rs;
        uint64_t *hs = PyMem_RawRealloc(t->hashes, (size_t)cap * sizeof(uint64_t));
        if (hs == NULL)
            return no_memory(), -1;
        t->hashes = hs;
        t->cap = cap;
    }
    if (grow((void **)&t->arena, &t->arena_cap, t->arena_n + n + 1, (size_t)t->unit) < 0)
        return -1;
    e = t->n++;
    t->hashes[e] = h;
    t->recs[e].offset = t->arena_n;
    t->recs[e].length = (int32_t)n;
    t->recs[e].value = -1;
    memcpy(t->arena + t->arena_n * t->unit, key, (size_t)n * t->unit);
    t->arena_n += n;
    table_place(t->slots, t->nslots - 1, h, e, &t->recs[e]);
    return e;
}

/* --- Integer keys to ints (KeyMap) and sets of them (KeySet) ------------------------ */

void
keymap_free(KeyMap *m)
{
    big_free(m->slots, (size_t)m->nslots * sizeof(KeySlot));
    memset(m, 0, sizeof(*m));
}

/* Room for n keys without rehashing. */
int
keymap_reserve(KeyMap *m, Py_ssize_t n)
{
    if (m->n || 2 * n <= m->nslots)
        return 0;
    Py_ssize_t nslots = 64;
    while (nslots < 2 * n)
        nslots *= 2;
    KeySlot *slots = big_alloc((size_t)nslots * sizeof(KeySlot));
    if (slots == NULL)
        return no_memory(), -1;
    for (Py_ssize_t i = 0; i < nslots; i++)
        slots[i].key = EMPTY_KEY;
    big_free(m->slots, (size_t)m->nslots * sizeof(KeySlot));
    m->slots = slots;
    m->nslots = nslots;
    return 0;
}

void
keymap_clear(KeyMap *m)
{
    for (Py_ssize_t i = 0; i < m->nslots; i++)
        m->slots[i].key = EMPTY_KEY;
    m->n = 0;
}

COLD int
keymap_put(KeyMap *m, uint64_t key, int32_t value, int32_t extra)
{
    if (2 * (m->n + 1) > m->nslots) {
        Py_ssize_t nslots = m->nslots ? 2 * m->nslots : 64;
        while (2 * (m->n + 1) > nslots)
            nslots *= 2;
        KeySlot *slots = big_alloc((size_t)nslots * sizeof(KeySlot));
        if (slots == NULL)
            return no_memory(), -1;
        for (Py_ssize_t i = 0; i < nslots; i++)
            slots[i].key = EMPTY_KEY;
        for (Py_ssize_t j = 0; j < m->nslots; j++) {
            if (m->slots[j].key == EMPTY_KEY)
                continue;
            Py_ssize_t i = (Py_ssize_t)(mix64(m->slots[j].key) & (uint64_t)(nslots - 1));
            while (slots[i].key != EMPTY_KEY)
                i = (i + 1) & (nslots - 1);
            slots[i] = m->slots[j];
        }
        big_free(m->slots, (size_t)m->nslots * sizeof(KeySlot));
        m->slots = slots;
        m->nslots = nslots;
    }
    Py_ssize_t mask = m->nslots - 1;
    Py_ssize_t i = (Py_ssize_t)(mix64(key) & (uint64_t)mask);
    while (m->slots[i].key != EMPTY_KEY && m->slots[i].key != key)
        i = (i + 1) & mask;
    if (m->slots[i].key == EMPTY_KEY) {
        m->slots[i].key = key;
        m->n++;
    }
    m->slots[i].value = value;
    m->slots[i].extra = extra;
    return 0;
}

int
keyset_add(KeySet *m, uint64_t key)
{
    if (keyset_has(m, key))
        return 0;
    if (2 * (m->n + 1) > m->nslots) {
        Py_ssize_t nslots = m->nslots ? 2 * m->nslots : 64;
        uint64_t *keys = PyMem_RawMalloc((size_t)nslots * sizeof(uint64_t));
        if (keys == NULL)
            return no_memory(), -1;
        for (Py_ssize_t i = 0; i < nslots; i++)
            keys[i] = EMPTY_KEY;
        for (Py_ssize_t j = 0; j < m->nslots; j++) {
            if (m->keys[j] == EMPTY_KEY)
                continue;
            Py_ssize_t i = (Py_ssize_t)(mix64(m->keys[j]) & (uint64_t)(nslots - 1));
            while (keys[i] != EMPTY_KEY)
                i = (i + 1) & (nslots - 1);
            keys[i] = m->keys[j];
        }
        PyMem_RawFree(m->keys);
        m->keys = keys;
        m->nslots = nslots;
    }
    Py_ssize_t mask = m->nslots - 1;
    Py_ssize_t i = (Py_ssize_t)(mix64(key) & (uint64_t)mask);
    while (m->keys[i] != EMPTY_KEY)
        i = (i + 1) & mask;
    m->keys[i] = key;
    m->n++;
    return 0;
}

/* --- Per-call working memory -------------------------------------------------------- */

void
work_free(Work *w)
{
    PyMem_RawFree(w->raw.p);
    PyMem_RawFree(w->text.p);
    PyMem_RawFree(w->low.p);
    PyMem_RawFree(w->tmp.p);
    PyMem_RawFree(w->syl_start);
    PyMem_RawFree(w->syl_len);
    PyMem_RawFree(w->entry);
    PyMem_RawFree(w->s0);
    PyMem_RawFree(w->state);
    PyMem_RawFree(w->back);
    PyMem_RawFree(w->label);
    PyMem_RawFree(w->sep);
    PyMem_RawFree(w->ids);
    PyMem_RawFree(w->ucols);
    PyMem_RawFree(w->cols);
    PyMem_RawFree(w->cols2);
    PyMem_RawFree(w->keys);
    table_free(&w->pending_keys);
    PyMem_RawFree(w->pending);
    PyMem_RawFree(w->pending_lowers.p);
    PyMem_RawFree(w->gram2);
    PyMem_RawFree(w->gram3);
    memset(w, 0, sizeof(*w));
    w->pending_keys.unit = 4;
}

/* --- Short syllable keys (ShortMap): the cache's quick way in ------------------------ */

static void
short_place(ShortSlot *slots, Py_ssize_t mask, const ShortSlot *x)
{
    Py_ssize_t i = (Py_ssize_t)(short_hash(x->lo, x->hi, x->length) & (uint64_t)mask);
    while (slots[i].entry)
        i = (i + 1) & mask;
    slots[i] = *x;
}

/* Add a key known to be absent. */
COLD int
short_add(ShortMap *m, uint64_t lo, uint64_t hi, Py_ssize_t len, Py_ssize_t e)
{
    if (2 * (m->n + 1) > m->nslots) {
        Py_ssize_t nslots = m->nslots ? 2 * m->nslots : 1024;
        ShortSlot *slots = PyMem_RawCalloc((size_t)nslots, sizeof(ShortSlot));
        if (slots == NULL)
            return no_memory(), -1;
        for (Py_ssize_t i = 0; i < m->nslots; i++)
            if (m->slots[i].entry)
                short_place(slots, nslots - 1, &m->slots[i]);
        PyMem_RawFree(m->slots);
        m->slots = slots;
        m->nslots = nslots;
    }
    ShortSlot x = {lo, hi, (int32_t)(e + 1), (int32_t)len, 0};
    short_place(m->slots, m->nslots - 1, &x);
    m->n++;
    return 0;
}

void
short_clear(ShortMap *m)
{
    if (m->slots)
        memset(m->slots, 0, (size_t)m->nslots * sizeof(ShortSlot));
    m->n = 0;
}

