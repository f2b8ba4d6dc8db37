/*
 * nlpkit._core: the predict path in C, with exactly the results of the pure-Python path.
 *
 * Text preparation (nlpkit.text), pyvi's word segmentation (nlpkit.segmenter), the TF-IDF
 * weights (nlpkit.vocabulary) and the linear scores (nlpkit.predictor) are computed here
 * from the same model files, with the same character classes (those of Python's `re` and
 * `str` methods, read from CPython's own Unicode tables) and the same floating-point
 * operations in the same order, so every segmentation, term, weight and score is bit for
 * bit what the Python code gives. The Python modules stay the reference; the tests compare
 * the two on generated, arbitrary and real texts.
 *
 * Two objects:
 *   Segmenter  pyvi's CRF (read from the crfsuite model inside pyvi's pickle) and its
 *              dictionary, plus a cache of what each distinct syllable contributes;
 *   Scorer     one model's vocabulary, idf, weights and intercepts, over a Segmenter.
 *
 * What Python alone defines exactly (lower-casing, str.isupper/istitle/isdigit, NFC) is
 * asked of Python: NFC once per text (a quick check when the text is NFC already, as nearly
 * every one is) and once more if it was cut, the rest once per distinct syllable, when it
 * enters the cache. A text the core does not handle (see NEEDS_PYTHON) is handed back to
 * the Python path.
 *
 * Every function runs with the GIL held. Python is called only while preparing a text and
 * while computing new cache entries into private buffers; the cache and the per-call
 * buffers are read and written only in stretches without Python calls, so no other thread
 * can change them meanwhile.
 *
 * Compile without floating-point contraction (-ffp-contract=off): a fused multiply-add
 * rounds once where numpy rounds twice.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#if defined(__SSE2__) && (defined(__x86_64__) || defined(_M_X64)) && !defined(NLPKIT_NO_SIMD)
#include <emmintrin.h>
#define HAVE_SSE2_64 1
#endif
/* Code that runs once per new syllable, table growth or failure: kept out of line and apart,
 * so that the code run for every text stays small in the instruction cache (which the
 * interpreter shares between calls). */
#if defined(__GNUC__) || defined(__clang__)
#define COLD __attribute__((cold, noinline))
#else
#define COLD
#endif

#if defined(__linux__)
#include <sys/mman.h>
#endif

typedef uint32_t cp_t; /* one code point */

/* Results of handling one text. */
enum { DONE = 0, INVALID = 1, NEEDS_PYTHON = 2, FAILED = -1 };

/* ---------------------------------------------------------------------------------------
 * Character classes
 * ------------------------------------------------------------------------------------- */

enum {
    F_SPACE = 1,   /* str.isspace, regex \s */
    F_WORD = 2,    /* regex \w: str.isalnum or "_" */
    F_DEC = 4,     /* regex \d: str.isdecimal */
    F_LETTER = 8,  /* regex [^\W\d_]: what makes a token a word (nlpkit.vocabulary) */
    F_UPPER = 16,  /* nlpkit.text.UPPER_LETTERS: isupper, below U+2000 */
    F_LOWER = 32,  /* nlpkit.text.LOWER_LETTERS: islower, below U+2000 */
    F_CTRL = 64,   /* nlpkit.text._CONTROL: replaced by a space */
    F_SPACES = 128 /* nlpkit.text._SPACES: runs collapse to one space */
};

#define TABLE_SIZE 0x10000
static uint8_t char_flags[TABLE_SIZE];

static uint8_t
compute_flags(cp_t c)
{
    uint8_t f = 0;
    if (Py_UNICODE_ISSPACE(c))
        f |= F_SPACE;
    int alnum = Py_UNICODE_ISALNUM(c);
    if (alnum || c == '_')
        f |= F_WORD;
    if (Py_UNICODE_ISDECIMAL(c))
        f |= F_DEC;
    if (alnum && !Py_UNICODE_ISDECIMAL(c) && c != '_')
        f |= F_LETTER;
    if (c < 0x2000 && Py_UNICODE_ISUPPER(c))
        f |= F_UPPER;
    if (c < 0x2000 && Py_UNICODE_ISLOWER(c))
        f |= F_LOWER;
    if (c <= 0x08 || (c >= 0x0b && c <= 0x1f) || (c >= 0x7f && c <= 0x9f) ||
        (c >= 0x200b && c <= 0x200f) || c == 0x2028 || c == 0x2029 || c == 0xfeff)
        f |= F_CTRL;
    if (c == ' ' || c == '\t' || c == 0xa0 || (c >= 0x2000 && c <= 0x200a) || c == 0x202f ||
        c == 0x205f || c == 0x3000)
        f |= F_SPACES;
    return f;
}

static inline uint8_t
flags_of(cp_t c)
{
    return c < TABLE_SIZE ? char_flags[c] : compute_flags(c);
}

static void
init_char_flags(void)
{
    for (cp_t c = 0; c < TABLE_SIZE; c++)
        char_flags[c] = compute_flags(c);
}

/* Characters that NFC leaves as they are wherever they stand: combining class 0, NFC on their
 * own, never the second half of a composition. A text of nothing else is NFC, and the core
 * skips asking Python. Read from Python's unicodedata at import for the ranges Vietnamese
 * text is written in (Latin, its precomposed letters with tone marks, punctuation); the
 * tests check the third condition over all of Unicode. */
#define INERT_LIMIT 0x2070
static uint8_t nfc_inert[INERT_LIMIT];

static void
init_nfc_inert(void)
{
    static const cp_t ranges[][2] = {{0, 0x300}, {0x1E00, 0x1F00}, {0x2000, INERT_LIMIT}};
    PyObject *ud = PyImport_ImportModule("unicodedata"), *combining = NULL, *normal = NULL;
    PyObject *form = PyUnicode_FromString("NFC");
    if (ud && form) {
        combining = PyObject_GetAttrString(ud, "combining");
        normal = PyObject_GetAttrString(ud, "is_normalized");
    }
    for (size_t r = 0; combining && normal && r < sizeof(ranges) / sizeof(ranges[0]); r++)
        for (cp_t c = ranges[r][0]; c < ranges[r][1]; c++) {
            PyObject *ch = PyUnicode_FromOrdinal((int)c);
            PyObject *ccc = ch ? PyObject_CallOneArg(combining, ch) : NULL;
            PyObject *yes = ch ? PyObject_CallFunctionObjArgs(normal, form, ch, NULL) : NULL;
            nfc_inert[c] = ccc && yes && PyLong_AsLong(ccc) == 0 && yes == Py_True;
            Py_XDECREF(ch);
            Py_XDECREF(ccc);
            Py_XDECREF(yes);
        }
    PyErr_Clear(); /* whatever failed is simply not skipped */
    Py_XDECREF(ud);
    Py_XDECREF(form);
    Py_XDECREF(combining);
    Py_XDECREF(normal);
}

#define INERT(c) ((c) < INERT_LIMIT && nfc_inert[c])

#define IS_SPACE(c) (flags_of(c) & F_SPACE)
#define IS_WORD(c) (flags_of(c) & F_WORD)
#define IS_DEC(c) (flags_of(c) & F_DEC)

/* ---------------------------------------------------------------------------------------
 * Growable arrays
 * ------------------------------------------------------------------------------------- */

static COLD int
grow(void **p, Py_ssize_t *cap, Py_ssize_t need, size_t unit)
{
    if (need <= *cap)
        return 0;
    Py_ssize_t n = *cap ? *cap : 64;
    while (n < need)
        n *= 2;
    void *q = PyMem_Realloc(*p, (size_t)n * unit);
    if (q == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    *p = q;
    *cap = n;
    return 0;
}

/* (the common case, room enough, decided inline) */
#define GROW(arr, cap, need) \
    ((need) <= (cap) ? 0 : grow((void **)&(arr), &(cap), (need), sizeof(*(arr))))

/* Memory for the large tables looked up at random (a model's rows, its bigram map): on Linux,
 * in 2 MiB pages where the kernel gives them. A look-up into tables of megabytes in 4 KiB
 * pages misses the TLB as often as the cache; one large page covers 512 small ones. Smaller
 * blocks, and other systems, take the interpreter's allocator. */
#define HUGE_PAGE ((size_t)2 << 20)

static void *
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
    return PyMem_Malloc(size ? size : 1);
}

static void
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
    PyMem_Free(p);
}

/* grow, for an array whose items should start on 64-byte cache lines; *raw is what to free */
static int
grow_aligned(void **raw, void **p, Py_ssize_t *cap, Py_ssize_t need, size_t unit)
{
    if (need <= *cap)
        return 0;
    Py_ssize_t n = *cap ? *cap : 64;
    while (n < need)
        n *= 2;
    char *r = PyMem_Malloc((size_t)n * unit + 64);
    if (r == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    char *a = (char *)(((uintptr_t)r + 63) & ~(uintptr_t)63);
    if (*p)
        memcpy(a, *p, (size_t)*cap * unit);
    PyMem_Free(*raw);
    *raw = r;
    *p = a;
    *cap = n;
    return 0;
}

typedef struct {
    cp_t *p;
    Py_ssize_t n, cap;
} CpBuf;

static inline int
cp_push(CpBuf *b, cp_t c)
{
    if (b->n == b->cap && GROW(b->p, b->cap, b->n + 1) < 0)
        return -1;
    b->p[b->n++] = c;
    return 0;
}

static int
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
static int
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
static int
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

static PyObject *
str_from_cp(const cp_t *s, Py_ssize_t n)
{
    return PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, s, n);
}

/* ---------------------------------------------------------------------------------------
 * Hash tables: keys are arrays of 1-byte or 4-byte units kept in an arena; values are the
 * entry numbers 0, 1, 2... in order of insertion (callers keep payloads in parallel arrays).
 * ------------------------------------------------------------------------------------- */

/* Ask for a cache line ahead of its use: a text's look-ups into large tables are independent,
 * and their misses overlap when the loads are issued together. */
#if defined(__GNUC__) || defined(__clang__)
#define PREFETCH(p) __builtin_prefetch(p)
#else
#define PREFETCH(p) ((void)0)
#endif

static inline uint64_t
mix64(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

static inline uint64_t
hash_units(const void *key, Py_ssize_t n, int unit)
{
    uint64_t h = 0xcbf29ce484222325ULL ^ (uint64_t)n;
    if (unit == 1) {
        const uint8_t *k = key;
        for (Py_ssize_t i = 0; i < n; i++)
            h = (h ^ k[i]) * 0x100000001b3ULL;
    }
    else { /* two code points a step */
        const uint32_t *k = key;
        Py_ssize_t i = 0;
        for (; i + 1 < n; i += 2)
            h = (h ^ ((uint64_t)k[i] | (uint64_t)k[i + 1] << 32)) * 0x9e3779b97f4a7c15ULL;
        if (i < n)
            h = (h ^ k[i]) * 0x9e3779b97f4a7c15ULL;
    }
    return mix64(h);
}

/* A slot holds the high half of its entry's hash, so that a probe reads one array until a
 * likely match; an entry's record says where its key is and holds one int of payload. */
typedef struct {
    uint32_t tag;
    int32_t entry;   /* entry + 1; 0 for an empty slot */
    uint32_t offset; /* where the entry's key is (copied from its record: a probe that */
    int32_t length;  /* finds its key reads the slot and the key only) */
} Slot;

typedef struct {
    Py_ssize_t offset; /* where the key starts in the arena (in units) */
    int32_t length;    /* in units */
    int32_t value;     /* payload, -1 when added */
} Record;

typedef struct {
    int unit; /* bytes per key unit: 1 or 4 */
    Slot *slots;
    Py_ssize_t nslots; /* a power of two */
    Record *recs;
    uint64_t *hashes; /* per entry, for rehashing */
    Py_ssize_t n, cap; /* entries */
    char *arena;
    Py_ssize_t arena_n, arena_cap; /* in units */
} Table;

static void
table_free(Table *t)
{
    PyMem_Free(t->slots);
    PyMem_Free(t->recs);
    PyMem_Free(t->hashes);
    PyMem_Free(t->arena);
    int unit = t->unit;
    memset(t, 0, sizeof(*t));
    t->unit = unit;
}

static void
table_clear(Table *t)
{
    if (t->slots)
        memset(t->slots, 0, (size_t)t->nslots * sizeof(Slot));
    t->n = 0;
    t->arena_n = 0;
}

static inline const void *
table_key(const Table *t, Py_ssize_t e)
{
    return t->arena + t->recs[e].offset * t->unit;
}

static inline int
keys_equal(const void *a, const void *b, Py_ssize_t n, int unit)
{
    if (unit == 4) {
        const uint32_t *x = a, *y = b;
        for (Py_ssize_t i = 0; i < n; i++)
            if (x[i] != y[i])
                return 0;
        return 1;
    }
    const uint8_t *x = a, *y = b;
    for (Py_ssize_t i = 0; i < n; i++)
        if (x[i] != y[i])
            return 0;
    return 1;
}

static inline Py_ssize_t
table_find(const Table *t, const void *key, Py_ssize_t n, uint64_t h)
{
    if (t->nslots == 0)
        return -1;
    Py_ssize_t mask = t->nslots - 1;
    uint32_t tag = (uint32_t)(h >> 32);
    for (Py_ssize_t i = (Py_ssize_t)(h & (uint64_t)mask);; i = (i + 1) & mask) {
        Slot s = t->slots[i];
        if (s.entry == 0)
            return -1;
        if (s.tag == tag && s.length == n &&
            keys_equal(t->arena + (Py_ssize_t)s.offset * t->unit, key, n, t->unit))
            return s.entry - 1;
    }
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
    Slot *slots = PyMem_Calloc((size_t)nslots, sizeof(Slot));
    if (slots == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t e = 0; e < t->n; e++)
        table_place(slots, nslots - 1, t->hashes[e], e, &t->recs[e]);
    PyMem_Free(t->slots);
    t->slots = slots;
    t->nslots = nslots;
    return 0;
}

/* The entry of `key`, added if absent (*added says which); -1 on failure. */
static COLD Py_ssize_t
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
        Record *rs = PyMem_Realloc(t->recs, (size_t)cap * sizeof(Record));
        if (rs == NULL)
            return PyErr_NoMemory(), -1;
        t->recs = rs;
        uint64_t *hs = PyMem_Realloc(t->hashes, (size_t)cap * sizeof(uint64_t));
        if (hs == NULL)
            return PyErr_NoMemory(), -1;
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

/* Integer keys (packed n-grams of ids) -> int, in one array of slots. */
typedef struct {
    uint64_t key; /* EMPTY_KEY for an empty slot */
    int32_t value;
    int32_t extra;
} KeySlot;

#define EMPTY_KEY UINT64_MAX

typedef struct {
    KeySlot *slots;
    Py_ssize_t nslots, n;
} KeyMap;

static void
keymap_free(KeyMap *m)
{
    big_free(m->slots, (size_t)m->nslots * sizeof(KeySlot));
    memset(m, 0, sizeof(*m));
}

static inline const KeySlot *
keymap_find(const KeyMap *m, uint64_t key)
{
    if (m->nslots == 0)
        return NULL;
    Py_ssize_t mask = m->nslots - 1;
    for (Py_ssize_t i = (Py_ssize_t)(mix64(key) & (uint64_t)mask);; i = (i + 1) & mask) {
        const KeySlot *s = &m->slots[i];
        if (s->key == key)
            return s;
        if (s->key == EMPTY_KEY)
            return NULL;
    }
}

/* Room for n keys without rehashing. */
static int
keymap_reserve(KeyMap *m, Py_ssize_t n)
{
    if (m->n || 2 * n <= m->nslots)
        return 0;
    Py_ssize_t nslots = 64;
    while (nslots < 2 * n)
        nslots *= 2;
    KeySlot *slots = big_alloc((size_t)nslots * sizeof(KeySlot));
    if (slots == NULL)
        return PyErr_NoMemory(), -1;
    for (Py_ssize_t i = 0; i < nslots; i++)
        slots[i].key = EMPTY_KEY;
    big_free(m->slots, (size_t)m->nslots * sizeof(KeySlot));
    m->slots = slots;
    m->nslots = nslots;
    return 0;
}

static void
keymap_clear(KeyMap *m)
{
    for (Py_ssize_t i = 0; i < m->nslots; i++)
        m->slots[i].key = EMPTY_KEY;
    m->n = 0;
}

static COLD int
keymap_put(KeyMap *m, uint64_t key, int32_t value, int32_t extra)
{
    if (2 * (m->n + 1) > m->nslots) {
        Py_ssize_t nslots = m->nslots ? 2 * m->nslots : 64;
        while (2 * (m->n + 1) > nslots)
            nslots *= 2;
        KeySlot *slots = big_alloc((size_t)nslots * sizeof(KeySlot));
        if (slots == NULL)
            return PyErr_NoMemory(), -1;
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

/* A set of integer keys (never EMPTY_KEY): one array of 8-byte slots. */
typedef struct {
    uint64_t *keys;
    Py_ssize_t nslots, n;
} KeySet;

static inline const uint64_t *
keyset_slot(const KeySet *m, uint64_t key)
{
    return m->nslots ? &m->keys[mix64(key) & (uint64_t)(m->nslots - 1)] : NULL;
}

static inline int
keyset_has(const KeySet *m, uint64_t key)
{
    if (m->nslots == 0)
        return 0;
    Py_ssize_t mask = m->nslots - 1;
    for (Py_ssize_t i = (Py_ssize_t)(mix64(key) & (uint64_t)mask);; i = (i + 1) & mask) {
        uint64_t k = m->keys[i];
        if (k == key)
            return 1;
        if (k == EMPTY_KEY)
            return 0;
    }
}

/* keyset_has for a code that may be EMPTY_KEY (then 0): with no branch on which it is */
static inline int
keyset_has_code(const KeySet *m, uint64_t key)
{
    if (m->nslots == 0)
        return 0;
    Py_ssize_t mask = m->nslots - 1;
    for (Py_ssize_t i = (Py_ssize_t)(mix64(key) & (uint64_t)mask);; i = (i + 1) & mask) {
        uint64_t k = m->keys[i];
        if (k == key)
            return key != EMPTY_KEY; /* EMPTY_KEY meets an empty slot */
        if (k == EMPTY_KEY)
            return 0;
    }
}

static int
keyset_add(KeySet *m, uint64_t key)
{
    if (keyset_has(m, key))
        return 0;
    if (2 * (m->n + 1) > m->nslots) {
        Py_ssize_t nslots = m->nslots ? 2 * m->nslots : 64;
        uint64_t *keys = PyMem_Malloc((size_t)nslots * sizeof(uint64_t));
        if (keys == NULL)
            return PyErr_NoMemory(), -1;
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
        PyMem_Free(m->keys);
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

/* ---------------------------------------------------------------------------------------
 * Per-call working memory
 * ------------------------------------------------------------------------------------- */

typedef struct {
    CpBuf raw, text, low, tmp; /* code points: input, normalised text, lower-cased, scratch */
    Py_ssize_t *syl_start;
    int32_t *syl_len;
    Py_ssize_t syl_cap;
    Py_ssize_t nsyl;
    int32_t *entry; /* cache entry of each syllable */
    Py_ssize_t entry_cap;
    double *s0;    /* TF-IDF weights */
    double *state; /* CRF state scores, [syllable][label] */
    Py_ssize_t s_cap, state_cap;
    uint8_t *back, *label;
    Py_ssize_t back_cap, label_cap;
    uint8_t *sep; /* 1 where "_" joins syllable i to the one before it */
    Py_ssize_t sep_cap;
    int32_t *ids; /* word ids of a text's words, -1 for words outside the vocabulary */
    int32_t *ucols; /* the column of each as a term of its own, or -1 */
    Py_ssize_t ids_cap, ucols_cap, nids;
    uint64_t *keys;
    Py_ssize_t keys_cap;
    uint32_t *cols, *cols2;
    Py_ssize_t cols_cap, cols2_cap, ncols;
    /* new cache entries, computed (calling Python) before they enter the cache */
    Table pending_keys; /* distinct missing syllables */
    struct Entry *pending;
    Py_ssize_t pending_cap;
    CpBuf pending_lowers;
    uint8_t *gram2, *gram3; /* dictionary bigram ending at i, trigram ending at i */
    Py_ssize_t gram2_cap, gram3_cap;
} Work;

static void
work_free(Work *w)
{
    PyMem_Free(w->raw.p);
    PyMem_Free(w->text.p);
    PyMem_Free(w->low.p);
    PyMem_Free(w->tmp.p);
    PyMem_Free(w->syl_start);
    PyMem_Free(w->syl_len);
    PyMem_Free(w->entry);
    PyMem_Free(w->s0);
    PyMem_Free(w->state);
    PyMem_Free(w->back);
    PyMem_Free(w->label);
    PyMem_Free(w->sep);
    PyMem_Free(w->ids);
    PyMem_Free(w->ucols);
    PyMem_Free(w->cols);
    PyMem_Free(w->cols2);
    PyMem_Free(w->keys);
    table_free(&w->pending_keys);
    PyMem_Free(w->pending);
    PyMem_Free(w->pending_lowers.p);
    PyMem_Free(w->gram2);
    PyMem_Free(w->gram3);
    memset(w, 0, sizeof(*w));
    w->pending_keys.unit = 4;
}

/* ---------------------------------------------------------------------------------------
 * The Segmenter: pyvi's model and the syllable cache
 * ------------------------------------------------------------------------------------- */

enum { OK_TO_JOIN = 1, TITLE_FIRST = 2, IS_TITLE = 4, IS_UPPER = 8 };
/* What a syllable's lower-cased form holds: a letter (F_LETTER), white space ("\n"), only
 * white space. */
enum { LOWER_LETTER = 1, LOWER_SPACE = 2, LOWER_BLANK = 4 };
/* What one distinct syllable contributes (nlpkit.segmenter._Model.row), in one cache line:
 * its own state score (B_W, I_W), its "-1:word.lower()" weights (added to the syllable
 * after it) and "+1:word.lower()" weights (added to the one before it); its istitle and
 * isupper flags select the constant weights of those features. */
typedef struct Entry {
    double own[2], prev[2], next[2];
    int32_t vid;       /* id in the dictionary's syllables; n_vocab if absent */
    int32_t lower;     /* its lower-cased form: offset in lowers (code points) */
    int32_t lower_len;
    uint8_t flags;     /* OK_TO_JOIN | TITLE_FIRST | IS_TITLE | IS_UPPER */
    uint8_t lflags;    /* LOWER_LETTER | LOWER_SPACE | LOWER_BLANK */
    uint8_t pad[2];
} Entry;

typedef struct {
    double own[2], prev[2], next[2];
} LowerWeights;

/* A syllable of up to 8 code points below U+FFFF (99% of them in news) as a key of fixed size,
 * 16 bits a code point: it is hashed and compared without a loop over its length, whose end
 * the processor cannot foresee, and found in one slot without reading a key elsewhere. */
typedef struct {
    uint64_t lo, hi; /* code points 0-3 and 4-7, zero beyond the length */
    int32_t entry;   /* entry + 1; 0 for an empty slot */
    int32_t length;
    uint64_t pad;    /* (two slots a cache line) */
} ShortSlot;

typedef struct {
    ShortSlot *slots;
    Py_ssize_t nslots, n;
} ShortMap;

#define NOT_SHORT UINT64_MAX /* a `hi` no short key has (its code points are below U+FFFF) */

/* LEN_MASK[n][k]: all ones for the first n code points of a short key */
#define ONES 0xffffffffU
static const uint32_t LEN_MASK[9][8] = {
    {0, 0, 0, 0, 0, 0, 0, 0},
    {ONES, 0, 0, 0, 0, 0, 0, 0},
    {ONES, ONES, 0, 0, 0, 0, 0, 0},
    {ONES, ONES, ONES, 0, 0, 0, 0, 0},
    {ONES, ONES, ONES, ONES, 0, 0, 0, 0},
    {ONES, ONES, ONES, ONES, ONES, 0, 0, 0},
    {ONES, ONES, ONES, ONES, ONES, ONES, 0, 0},
    {ONES, ONES, ONES, ONES, ONES, ONES, ONES, 0},
    {ONES, ONES, ONES, ONES, ONES, ONES, ONES, ONES},
};
#undef ONES

/* The short key of s[0:len] into *lo, *hi; 0 if it has none. `room`: how many code points
 * can be read from s. Two code points a step, those beyond the length masked: a fixed number
 * of steps. (The order of the 16-bit halves follows the machine's byte order, the same for
 * every key.) */
static inline int
short_key(const cp_t *s, Py_ssize_t len, Py_ssize_t room, uint64_t *lo, uint64_t *hi)
{
    if (len > 8)
        return 0;
    cp_t buf[8];
    if (room < 8) { /* near the end of the text */
        memset(buf, 0, sizeof(buf));
        memcpy(buf, s, (size_t)len * sizeof(cp_t));
        s = buf;
    }
#ifdef HAVE_SSE2_64
    /* The same key, four code points an instruction: masked, tested against U+FFFF, then
     * packed to 16 bits (shifted into the signed range that _mm_packs_epi32 keeps exactly). */
    __m128i a = _mm_loadu_si128((const __m128i *)s);
    __m128i b = _mm_loadu_si128((const __m128i *)(s + 4));
    a = _mm_and_si128(a, _mm_loadu_si128((const __m128i *)LEN_MASK[len]));
    b = _mm_and_si128(b, _mm_loadu_si128((const __m128i *)(LEN_MASK[len] + 4)));
    __m128i limit = _mm_set1_epi32(0xfffe), shift = _mm_set1_epi32(0x8000);
    int big = _mm_movemask_epi8(_mm_or_si128(_mm_cmpgt_epi32(a, limit), _mm_cmpgt_epi32(b, limit)));
    __m128i packed = _mm_packs_epi32(_mm_sub_epi32(a, shift), _mm_sub_epi32(b, shift));
    packed = _mm_xor_si128(packed, _mm_set1_epi16((short)0x8000));
    *lo = (uint64_t)_mm_cvtsi128_si64(packed);
    *hi = (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(packed, packed));
    return big == 0;
#else
    uint64_t half[4], big = 0;
    for (int j = 0; j < 4; j++) {
        uint64_t two, mask;
        memcpy(&two, s + 2 * j, 8);
        memcpy(&mask, &LEN_MASK[len][2 * j], 8);
        two &= mask;
        big |= (two + 0x0000000100000001ULL) & 0xffff0000ffff0000ULL; /* one >= U+FFFF */
        half[j] = (two & 0xffff) | ((two >> 16) & 0xffff0000);
    }
    *lo = half[0] | half[1] << 32;
    *hi = half[2] | half[3] << 32;
    return big == 0;
#endif
}

static inline uint64_t
short_hash(uint64_t lo, uint64_t hi, Py_ssize_t len)
{
    return mix64(lo ^ (hi * 0x9e3779b97f4a7c15ULL) ^ ((uint64_t)len << 58));
}

static inline const ShortSlot *
short_slot(const ShortMap *m, uint64_t h)
{
    return m->nslots ? &m->slots[h & (uint64_t)(m->nslots - 1)] : NULL;
}

static inline Py_ssize_t
short_find(const ShortMap *m, uint64_t lo, uint64_t hi, Py_ssize_t len, uint64_t h)
{
    if (m->nslots == 0)
        return -1;
    Py_ssize_t mask = m->nslots - 1;
    for (Py_ssize_t i = (Py_ssize_t)(h & (uint64_t)mask);; i = (i + 1) & mask) {
        const ShortSlot *s = &m->slots[i];
        if (s->entry == 0)
            return -1;
        if ((s->lo == lo) & (s->hi == hi) & (s->length == len))
            return s->entry - 1;
    }
}

static void
short_place(ShortSlot *slots, Py_ssize_t mask, const ShortSlot *x)
{
    Py_ssize_t i = (Py_ssize_t)(short_hash(x->lo, x->hi, x->length) & (uint64_t)mask);
    while (slots[i].entry)
        i = (i + 1) & mask;
    slots[i] = *x;
}

/* Add a key known to be absent. */
static COLD int
short_add(ShortMap *m, uint64_t lo, uint64_t hi, Py_ssize_t len, Py_ssize_t e)
{
    if (2 * (m->n + 1) > m->nslots) {
        Py_ssize_t nslots = m->nslots ? 2 * m->nslots : 1024;
        ShortSlot *slots = PyMem_Calloc((size_t)nslots, sizeof(ShortSlot));
        if (slots == NULL)
            return PyErr_NoMemory(), -1;
        for (Py_ssize_t i = 0; i < m->nslots; i++)
            if (m->slots[i].entry)
                short_place(slots, nslots - 1, &m->slots[i]);
        PyMem_Free(m->slots);
        m->slots = slots;
        m->nslots = nslots;
    }
    ShortSlot x = {lo, hi, (int32_t)(e + 1), (int32_t)len, 0};
    short_place(m->slots, m->nslots - 1, &x);
    m->n++;
    return 0;
}

static void
short_clear(ShortMap *m)
{
    if (m->slots)
        memset(m->slots, 0, (size_t)m->nslots * sizeof(ShortSlot));
    m->n = 0;
}

typedef struct {
    PyObject_HEAD
    double trans[4]; /* B->B, B->I, I->B, I->I */
    double bias[2], isupper[2], istitle[2], isdigit[2];
    /* The neighbours' constant features, [present][label]: [0] is zeros, so that a feature
     * is added by indexing, not by a branch (whether a feature is present is random). */
    double m1_title[2][2], m1_upper[2][2], p1_title[2][2], p1_upper[2][2];
    double m1_bi[2][2], p1_bi[2][2], m2_tri[2][2], p2_tri[2][2];
    Table lower_attrs; /* UTF-8 key of "word.lower():KEY" and its -1/+1 forms */
    LowerWeights *lower_w;
    Py_ssize_t lower_w_cap;
    Table vocab;       /* UTF-8 syllables of the dictionary's bigrams and trigrams -> id */
    int32_t n_vocab;
    /* The dictionary's bigrams and trigrams of syllable ids, as codes (gram_code). */
    KeySet bigrams, trigrams;
    /* the cache */
    Table cache;
    ShortMap short_cache; /* the same entries of its syllables that have a short key */
    Entry *entries;
    Py_ssize_t entries_cap;
    void *entries_mem;
    CpBuf lowers;
    Py_ssize_t limit;
    uint64_t generation; /* counts the times the cache started over */
    Work spare;
    int spare_busy;
    PyObject *normalize; /* unicodedata.normalize */
    PyObject *nfc;       /* "NFC" */
    PyObject *s_lower, *s_isupper, *s_istitle, *s_isdigit;
} Segmenter;

static PyTypeObject SegmenterType;

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

/* --- Reading the crfsuite model ------------------------------------------------------ */

static int
read_u32(const uint8_t *d, Py_ssize_t size, Py_ssize_t off, uint32_t *out)
{
    if (off < 0 || off + 4 > size) {
        PyErr_SetString(PyExc_ValueError, "crfsuite model truncated");
        return -1;
    }
    *out = (uint32_t)d[off] | (uint32_t)d[off + 1] << 8 | (uint32_t)d[off + 2] << 16 |
           (uint32_t)d[off + 3] << 24;
    return 0;
}

/* The key of record i of a CQDB chunk at `off` (as in nlpkit.segmenter._cqdb_strings). */
static int
cqdb_key(const uint8_t *d, Py_ssize_t size, Py_ssize_t off, uint32_t i, const uint8_t **key,
         Py_ssize_t *len)
{
    uint32_t backward, record, ident, ksize;
    if (off + 24 > size || memcmp(d + off, "CQDB", 4) != 0) {
        PyErr_SetString(PyExc_ValueError, "not a crfsuite model: CQDB chunk missing");
        return -1;
    }
    if (read_u32(d, size, off + 20, &backward) < 0 ||
        read_u32(d, size, off + backward + 4 * (Py_ssize_t)i, &record) < 0 ||
        read_u32(d, size, off + record, &ident) < 0 ||
        read_u32(d, size, off + record + 4, &ksize) < 0)
        return -1;
    Py_ssize_t start = off + record + 8;
    if (ident != i || ksize < 1 || start + ksize > size || d[start + ksize - 1] != 0) {
        PyErr_SetString(PyExc_ValueError, "unexpected CQDB record in crfsuite model");
        return -1;
    }
    *key = d + start;
    *len = ksize - 1;
    return 0;
}

typedef struct {
    uint32_t type, src, dst;
    double weight;
} Feature;

static int
key_is(const uint8_t *key, Py_ssize_t len, const char *name)
{
    size_t n = strlen(name);
    return (size_t)len == n && memcmp(key, name, n) == 0;
}

static int
key_has_prefix(const uint8_t *key, Py_ssize_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return (size_t)len >= n && memcmp(key, prefix, n) == 0;
}

static int
add_lower_weights(Segmenter *seg, const uint8_t *key, Py_ssize_t len, int which,
                  const double w[2])
{
    int added;
    Py_ssize_t e = table_add(&seg->lower_attrs, key, len, hash_units(key, len, 1), &added);
    if (e < 0)
        return -1;
    if (added) {
        if (GROW(seg->lower_w, seg->lower_w_cap, e + 1) < 0)
            return -1;
        memset(&seg->lower_w[e], 0, sizeof(LowerWeights));
    }
    double *dst = which == 0 ? seg->lower_w[e].own
                  : which == 1 ? seg->lower_w[e].prev
                               : seg->lower_w[e].next;
    dst[0] = w[0];
    dst[1] = w[1];
    return 0;
}

static int
load_crfsuite(Segmenter *seg, const uint8_t *d, Py_ssize_t size)
{
    uint32_t version, n_labels, n_attrs, off_feat, off_labels, off_attrs, off_refs, n_features;
    if (size < 48 || memcmp(d, "lCRF", 4) != 0 || memcmp(d + 8, "FOMC", 4) != 0) {
        PyErr_SetString(PyExc_ValueError, "not a crfsuite CRF1d model of a known version");
        return -1;
    }
    read_u32(d, size, 12, &version);
    read_u32(d, size, 20, &n_labels);
    read_u32(d, size, 24, &n_attrs);
    read_u32(d, size, 28, &off_feat);
    read_u32(d, size, 32, &off_labels);
    read_u32(d, size, 36, &off_attrs);
    read_u32(d, size, 44, &off_refs);
    if (version != 100) {
        PyErr_SetString(PyExc_ValueError, "not a crfsuite CRF1d model of a known version");
        return -1;
    }
    /* The decoder hard-codes two labels with B_W first (ties go to the lower id). */
    const uint8_t *key;
    Py_ssize_t len;
    if (n_labels != 2 || cqdb_key(d, size, off_labels, 0, &key, &len) < 0 ||
        !key_is(key, len, "B_W") || cqdb_key(d, size, off_labels, 1, &key, &len) < 0 ||
        !key_is(key, len, "I_W")) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "unexpected labels in pyvi's model");
        return -1;
    }
    if (read_u32(d, size, off_feat + 8, &n_features) < 0)
        return -1;
    if (off_feat + 12 + 20 * (Py_ssize_t)n_features > size) {
        PyErr_SetString(PyExc_ValueError, "crfsuite model truncated");
        return -1;
    }
    Feature *features = PyMem_Malloc(sizeof(Feature) * (n_features ? n_features : 1));
    uint8_t *seen = PyMem_Calloc(2, 1);
    if (features == NULL || seen == NULL) {
        PyMem_Free(features);
        PyMem_Free(seen);
        PyErr_NoMemory();
        return -1;
    }
    for (uint32_t i = 0; i < n_features; i++) {
        Py_ssize_t at = off_feat + 12 + 20 * (Py_ssize_t)i;
        read_u32(d, size, at, &features[i].type);
        read_u32(d, size, at + 4, &features[i].src);
        read_u32(d, size, at + 8, &features[i].dst);
        uint32_t lo = 0, hi = 0; /* a little-endian float64, whatever the host's byte order
                                  * (in bounds: the block's size was checked above) */
        read_u32(d, size, at + 12, &lo);
        read_u32(d, size, at + 16, &hi);
        uint64_t bits = (uint64_t)hi << 32 | lo;
        memcpy(&features[i].weight, &bits, 8);
        if (features[i].type == 1 && features[i].src < 2 && features[i].dst < 2)
            /* crfsuite assigns (does not add) transition weights */
            seg->trans[2 * features[i].src + features[i].dst] = features[i].weight;
    }
    int status = -1;
    for (uint32_t aid = 0; aid < n_attrs; aid++) {
        uint32_t ref, count;
        if (read_u32(d, size, off_refs + 12 + 4 * (Py_ssize_t)aid, &ref) < 0 ||
            read_u32(d, size, ref, &count) < 0)
            goto done;
        double w[2] = {0.0, 0.0};
        seen[0] = seen[1] = 0;
        for (uint32_t j = 0; j < count; j++) {
            uint32_t fid;
            if (read_u32(d, size, ref + 4 + 4 * (Py_ssize_t)j, &fid) < 0)
                goto done;
            if (fid >= n_features || features[fid].type != 0 || features[fid].src != aid ||
                features[fid].dst >= 2 || seen[features[fid].dst]) {
                PyErr_SetString(PyExc_ValueError, "unexpected state feature in crfsuite model");
                goto done;
            }
            seen[features[fid].dst] = 1;
            w[features[fid].dst] = features[fid].weight;
        }
        if (cqdb_key(d, size, off_attrs, aid, &key, &len) < 0)
            goto done;
        struct {
            const char *name;
            double *dst;
        } fixed[] = {
            {"bias", seg->bias},
            {"word.isupper()", seg->isupper},
            {"word.istitle()", seg->istitle},
            {"word.isdigit()", seg->isdigit},
            {"-1:word.istitle()", seg->m1_title[1]},
            {"-1:word.isupper()", seg->m1_upper[1]},
            {"+1:word.istitle()", seg->p1_title[1]},
            {"+1:word.isupper()", seg->p1_upper[1]},
            {"-1:word.bi_gram()", seg->m1_bi[1]},
            {"+1:word.bi_gram()", seg->p1_bi[1]},
            {"-2:word.tri_gram()", seg->m2_tri[1]},
            {"+2:word.tri_gram()", seg->p2_tri[1]},
        };
        int found = 0;
        for (size_t k = 0; k < sizeof(fixed) / sizeof(fixed[0]); k++) {
            if (key_is(key, len, fixed[k].name)) {
                fixed[k].dst[0] = w[0];
                fixed[k].dst[1] = w[1];
                found = 1;
                break;
            }
        }
        if (found)
            continue;
        static const char *prefixes[] = {"word.lower():", "-1:word.lower():", "+1:word.lower():"};
        for (int which = 0; which < 3; which++) {
            size_t n = strlen(prefixes[which]);
            if (key_has_prefix(key, len, prefixes[which])) {
                if (add_lower_weights(seg, key + n, len - (Py_ssize_t)n, which, w) < 0)
                    goto done;
                break;
            }
        }
    }
    status = 0;
done:
    PyMem_Free(features);
    PyMem_Free(seen);
    return status;
}

/* The code of an n-gram of syllable ids (each below 2**21), 0 for the third of a bigram. */
static inline uint64_t
gram_code(uint32_t a, uint32_t b, uint32_t c)
{
    return (uint64_t)a << 42 | (uint64_t)b << 21 | c;
}

/* pyvi's dictionary: words.txt split at "\n", entries of two or three " "-separated parts
 * (nlpkit.segmenter._Model.load). */
static int
load_words(Segmenter *seg, const uint8_t *d, Py_ssize_t size)
{
    /* ids are packed into 21 bits (gram_code); pyvi's dictionary has some 6,000 syllables */
    uint32_t *grams = NULL; /* id, id, id, length per entry of two or three parts */
    Py_ssize_t cap = 0, count = 0;
    Py_ssize_t start = 0;
    while (start <= size) {
        Py_ssize_t end = start;
        while (end < size && d[end] != '\n')
            end++;
        Py_ssize_t parts[4][2];
        int np = 0;
        Py_ssize_t p = start;
        for (;;) {
            Py_ssize_t q = p;
            while (q < end && d[q] != ' ')
                q++;
            if (np < 4) {
                parts[np][0] = p;
                parts[np][1] = q;
            }
            np++;
            if (q >= end)
                break;
            p = q + 1;
        }
        if (np == 2 || np == 3) {
            if (GROW(grams, cap, 4 * (count + 1)) < 0)
                goto fail;
            grams[4 * count + 3] = (uint32_t)np;
            for (int i = 0; i < np; i++) {
                const uint8_t *k = d + parts[i][0];
                Py_ssize_t n = parts[i][1] - parts[i][0];
                Py_ssize_t e = table_add(&seg->vocab, k, n, hash_units(k, n, 1), NULL);
                if (e < 0)
                    goto fail;
                if (e >= (1 << 21) - 1) {
                    PyErr_SetString(PyExc_ValueError, "pyvi's dictionary is too large");
                    goto fail;
                }
                grams[4 * count + i] = (uint32_t)e;
            }
            count++;
        }
        start = end + 1;
    }
    seg->n_vocab = (int32_t)seg->vocab.n;
    for (Py_ssize_t j = 0; j < count; j++) {
        uint32_t *g = grams + 4 * j;
        int status = g[3] == 2 ? keyset_add(&seg->bigrams, gram_code(g[0], g[1], 0))
                               : keyset_add(&seg->trigrams, gram_code(g[0], g[1], g[2]));
        if (status < 0)
            goto fail;
    }
    PyMem_Free(grams);
    return 0;
fail:
    PyMem_Free(grams);
    return -1;
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

/* --- Normalisation (nlpkit.text._normalize and _normalize_prefix) -------------------- */

/* unicodedata.normalize("NFC", s), without asking Python when every character is inert. */
static COLD PyObject *
nfc(Segmenter *seg, PyObject *s)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    int kind = PyUnicode_KIND(s), inert = 1;
    const void *data = PyUnicode_DATA(s);
    for (Py_ssize_t i = 0; i < n && inert; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        inert = INERT(c);
    }
    if (inert)
        return Py_NewRef(s);
    PyObject *args[2] = {seg->nfc, s};
    return PyObject_Vectorcall(seg->normalize, args, 2, NULL);
}

/* Whether a str holds content: a character that is neither white space nor a control
 * character (text.check_text). */
static int
has_content(PyObject *s)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    int kind = PyUnicode_KIND(s);
    const void *data = PyUnicode_DATA(s);
    for (Py_ssize_t i = 0; i < n; i++)
        if (!(flags_of(PyUnicode_READ(kind, data, i)) & (F_SPACE | F_CTRL)))
            return 1;
    return 0;
}

static int
has_surrogates(PyObject *s)
{
    /* (a loop without an early exit: the compiler vectorises it) */
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    int any = 0;
    if (PyUnicode_KIND(s) == PyUnicode_2BYTE_KIND) {
        const Py_UCS2 *d = PyUnicode_2BYTE_DATA(s);
        for (Py_ssize_t i = 0; i < n; i++)
            any |= (d[i] & 0xf800) == 0xd800;
    }
    else if (PyUnicode_KIND(s) == PyUnicode_4BYTE_KIND) {
        const Py_UCS4 *d = PyUnicode_4BYTE_DATA(s);
        for (Py_ssize_t i = 0; i < n; i++)
            any |= (d[i] & 0xfffff800) == 0xd800;
    }
    return any;
}

static int clean_str(PyObject *t, Work *w, int check_inert, int *dateline);
static int unglue_datelines(Work *w, CpBuf *out, int dateline);

/* _normalize(s) into `out` (may_have_surrogates: 0 if s is known to hold none). */
static int
normalize_full(Segmenter *seg, PyObject *s, Work *w, CpBuf *out, int may_have_surrogates)
{
    int dateline;
    /* Most texts: every character NFC-inert (then s is its own NFC and holds no lone
     * surrogate, which is not inert), found while cleaning it: one reading of the text. */
    int inert = clean_str(s, w, 1, &dateline);
    if (inert < 0)
        return -1;
    if (inert)
        return unglue_datelines(w, out, dateline);
    PyObject *t;
    if (may_have_surrogates && has_surrogates(s)) {
        /* text.encode("utf-8", "replace").decode(): each lone surrogate becomes "?" */
        if (cp_from_str(&w->raw, s, NULL) < 0)
            return -1;
        for (Py_ssize_t i = 0; i < w->raw.n; i++)
            if (w->raw.p[i] >= 0xd800 && w->raw.p[i] <= 0xdfff)
                w->raw.p[i] = '?';
        PyObject *fixed = str_from_cp(w->raw.p, w->raw.n);
        if (fixed == NULL)
            return -1;
        t = nfc(seg, fixed);
        Py_DECREF(fixed);
    }
    else
        t = nfc(seg, s);
    if (t == NULL)
        return -1;
    int status = clean_str(t, w, 0, &dateline);
    Py_DECREF(t);
    return status < 0 ? -1 : unglue_datelines(w, out, dateline);
}

/* In one pass: "\r\n" and "\r" to "\n"; control characters to " "; runs of _SPACES to one
 * " "; lines stripped (str.strip), empty ones dropped, joined by "\n". Into b, which has
 * room for n characters. Returns whether every character is NFC-inert (when check_inert);
 * *dateline: whether the result may hold a glued dateline (_DATELINE_HINT: an upper-case
 * letter or digit, an upper-case letter, a lower-case letter). (Inlined once per kind of str,
 * with `kind` a constant.) */
static inline int
clean_lines(const void *r, int kind, Py_ssize_t n, CpBuf *b, int check_inert, int *dateline)
{
    Py_ssize_t line = 0; /* where the current line starts in b */
    int at_start = 1;    /* nothing of the current line out yet */
    unsigned inert = 1, hint = 0;
    /* The flags of the last two characters out. A space taken back at the end of a line may
     * leave its flags here: white space matches no part of the hint. */
    unsigned f1 = 0, f2 = 0;
    b->n = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        cp_t c = PyUnicode_READ(kind, r, i);
        if (check_inert)
            inert &= c < INERT_LIMIT ? nfc_inert[c] : 0;
        if (c == '\r') {
            if (i + 1 < n && PyUnicode_READ(kind, r, i + 1) == '\n')
                continue;
            c = '\n';
        }
        if (c == '\n') {
            while (b->n > line && IS_SPACE(b->p[b->n - 1]))
                b->n--;
            at_start = 1;
            continue;
        }
        unsigned f = flags_of(c);
        if (f & (F_CTRL | F_SPACES)) {
            if (at_start || b->p[b->n - 1] == ' ')
                continue; /* a leading space, or the run's space is out already */
            c = ' ';
            f = F_SPACE;
        }
        else if (at_start) {
            if (f & F_SPACE)
                continue; /* other leading white space */
            if (b->n) {
                b->p[b->n++] = '\n';
                f2 = f1;
                f1 = F_SPACE;
            }
            line = b->n;
            at_start = 0;
        }
        hint |= (f & F_LOWER) && (f1 & F_UPPER) && (f2 & (F_UPPER | F_DEC));
        f2 = f1;
        f1 = f;
        b->p[b->n++] = c;
    }
    while (b->n > line && IS_SPACE(b->p[b->n - 1]))
        b->n--;
    *dateline = (int)hint;
    return (int)inert;
}

/* clean_lines of a str into w->tmp; -1 on failure. */
static int
clean_str(PyObject *t, Work *w, int check_inert, int *dateline)
{
    CpBuf *b = &w->tmp;
    Py_ssize_t n = PyUnicode_GET_LENGTH(t);
    if (GROW(b->p, b->cap, n + 1) < 0)
        return -1;
    switch (PyUnicode_KIND(t)) {
    case PyUnicode_1BYTE_KIND:
        return clean_lines(PyUnicode_DATA(t), PyUnicode_1BYTE_KIND, n, b, check_inert, dateline);
    case PyUnicode_2BYTE_KIND:
        return clean_lines(PyUnicode_DATA(t), PyUnicode_2BYTE_KIND, n, b, check_inert, dateline);
    default:
        return clean_lines(PyUnicode_DATA(t), PyUnicode_4BYTE_KIND, n, b, check_inert, dateline);
    }
}

/* The rest of _normalize, on the cleaned text in w->tmp, into out. */
static int
unglue_datelines(Work *w, CpBuf *out, int dateline)
{
    CpBuf *b = &w->tmp;
    /* Glued datelines: (?<!\w)(?=\d*[U])([U\d]{2,})(?=[U][L]{2}) -> "\1 ". At a position
     * not after a word character, the run of upper-case letters and digits must end with an
     * upper-case letter followed by two lower-case ones, and hold at least two characters
     * before that letter (a run ending with an upper-case letter has one, which satisfies
     * the look-ahead (?=\d*[U])). */
    const cp_t *t2 = b->p;
    Py_ssize_t m = b->n;
    if (!dateline) { /* no dateline: the text is done */
        CpBuf swap = *out;
        *out = *b;
        *b = swap;
        return 0;
    }
    out->n = 0;
    if (GROW(out->p, out->cap, m + m / 3 + 2) < 0)
        return -1;
    for (Py_ssize_t p = 0; p < m;) {
        cp_t c = t2[p];
        if ((flags_of(c) & (F_UPPER | F_DEC)) && (p == 0 || !IS_WORD(t2[p - 1]))) {
            Py_ssize_t q = p + 1;
            while (q < m && (flags_of(t2[q]) & (F_UPPER | F_DEC)))
                q++;
            if (q - p >= 3 && (flags_of(t2[q - 1]) & F_UPPER) && q + 1 < m &&
                (flags_of(t2[q]) & F_LOWER) && (flags_of(t2[q + 1]) & F_LOWER)) {
                memcpy(out->p + out->n, t2 + p, (size_t)(q - 1 - p) * sizeof(cp_t));
                out->n += q - 1 - p;
                out->p[out->n++] = ' ';
                /* the match ends before t2[q - 1], which starts no other match (the run
                 * from there is one character); scanning goes on after it */
                out->p[out->n++] = t2[q - 1];
                p = q;
                continue;
            }
        }
        out->p[out->n++] = c;
        p++;
    }
    return 0;
}

static int nfc_buffer(Segmenter *seg, CpBuf *b);

/* The first max_chars characters, NFC-normalised as pyvi normalises what it segments: a
 * prefix of an NFC text need not be NFC. */
static int
cut_nfc(Segmenter *seg, CpBuf *out, Py_ssize_t max_chars)
{
    out->n = max_chars;
    return nfc_buffer(seg, out);
}

static Py_ssize_t
find_space_or_newline(PyObject *s, Py_ssize_t from)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    int kind = PyUnicode_KIND(s);
    const void *data = PyUnicode_DATA(s);
    for (Py_ssize_t i = from; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (c == ' ' || c == '\n')
            return i;
    }
    return -1;
}

/* normalize(s, max_chars) into w->text (max_chars < 0: no cut). */
static int
normalize_prefix(Segmenter *seg, PyObject *s, Py_ssize_t max_chars, Work *w, int sur)
{
    CpBuf *out = &w->text;
    if (max_chars < 0)
        return normalize_full(seg, s, w, out, sur);
    /* (Without a cut the result is NFC already: normalisation only replaces, inserts or
     * removes white space and control characters, or inserts a space before an upper-case
     * letter, and all of those are NFC-stable: they never compose with a neighbour, so NFC
     * treats the pieces between them on their own. The tests check that premise over all of
     * Unicode.) */
    Py_ssize_t margin = 16;
    Py_ssize_t size = max_chars + 4 * margin;
    Py_ssize_t len = PyUnicode_GET_LENGTH(s);
    if (len <= size) {
        if (normalize_full(seg, s, w, out, sur) < 0)
            return -1;
        if (out->n > max_chars)
            return cut_nfc(seg, out, max_chars);
        return 0;
    }
    for (;;) {
        /* Cut only before an ASCII space or newline: NFC of the prefix is then the prefix of
         * NFC. */
        Py_ssize_t cut = size < len ? find_space_or_newline(s, size) : -1;
        if (cut < 0) {
            if (normalize_full(seg, s, w, out, sur) < 0)
                return -1;
            break;
        }
        PyObject *prefix = PyUnicode_Substring(s, 0, cut);
        if (prefix == NULL)
            return -1;
        int status = normalize_full(seg, prefix, w, out, sur);
        Py_DECREF(prefix);
        if (status < 0)
            return -1;
        if (out->n >= max_chars + margin)
            break;
        size *= 4;
    }
    return out->n > max_chars ? cut_nfc(seg, out, max_chars) : 0;
}

/* pyvi NFC-normalises what it segments; so does nlpkit.segmenter.syllabize. */
static COLD int
nfc_buffer(Segmenter *seg, CpBuf *b)
{
    int inert = 1;
    for (Py_ssize_t i = 0; i < b->n && inert; i++)
        inert = INERT(b->p[i]);
    if (inert)
        return 0;
    PyObject *s = str_from_cp(b->p, b->n);
    if (s == NULL)
        return -1;
    PyObject *t = nfc(seg, s);
    int status = 0;
    if (t == NULL)
        status = -1;
    else if (t != s)
        status = cp_from_str(b, t, NULL);
    Py_DECREF(s);
    Py_XDECREF(t);
    return status;
}

/* --- Syllables: pyvi's regular expression, alternative by alternative ---------------- */

static inline int
is_azd(cp_t c)
{
    return (c >= 'A' && c <= 'Z') || c == 0x110; /* [A-ZĐ] */
}

static inline int
is_email_local(cp_t c) /* [a-zA-Z0-9_.+-] */
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '.' || c == '+' || c == '-';
}

static inline int
is_domain(cp_t c) /* [a-zA-Z0-9-] */
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-';
}

static inline int
starts_with(const cp_t *t, Py_ssize_t n, Py_ssize_t p, const char *lit)
{
    for (Py_ssize_t k = 0; lit[k]; k++)
        if (p + k >= n || t[p + k] != (cp_t)(unsigned char)lit[k])
            return 0;
    return 1;
}

typedef struct {
    Py_ssize_t run_lo, run_hi; /* a maximal run of [a-zA-Z0-9_.+-] seen last */
    Py_ssize_t at, at_end;     /* an "@" and where the domain after it ends (-1: none) */
} EmailMemo;

/* (?:[a-zA-Z0-9-]+\.)+[a-zA-Z0-9-]+ at p: greedy groups, then a final label; when the
 * final label is empty the regex gives back the last group, whose label becomes the final
 * one. */
static Py_ssize_t
domain_end(const cp_t *t, Py_ssize_t n, Py_ssize_t p)
{
    Py_ssize_t groups = 0, last_label_end = -1, i = p;
    for (;;) {
        Py_ssize_t j = i;
        while (j < n && is_domain(t[j]))
            j++;
        if (j == i)
            break;
        if (j < n && t[j] == '.') {
            groups++;
            last_label_end = j;
            i = j + 1;
            continue;
        }
        return groups >= 1 ? j : -1;
    }
    return groups >= 2 ? last_label_end : -1;
}

/* The end of pyvi's syllable at p, or -1 if none starts there (white space but "\n"). */
static Py_ssize_t
match_at(const cp_t *t, Py_ssize_t n, Py_ssize_t p, EmailMemo *memo)
{
    cp_t c = t[p];
    Py_ssize_t q;
    uint8_t f = flags_of(c);
    /* Most syllables are a run of word characters that no earlier alternative can take: not
     * starting with a digit (a number), and not followed by ":" (a web address), "@", "+",
     * "-" (an e-mail address; its local part holds only ASCII and would end at the run's
     * first other character, which is no "@") or "." (also "[A-ZĐ]+\." and "Tp.", "Mr." ...:
     * a run of [A-ZĐ] that ends inside the word is followed by a word character, and each of
     * those titles is a whole run of word characters, then "."). For those, \w+ is the
     * answer. */
    if ((f & F_WORD) && !(f & F_DEC)) {
        q = p + 1;
        while (q < n && IS_WORD(t[q]))
            q++;
        if (q == n)
            return q;
        cp_t d = t[q];
        if (d != ':' && d != '@' && d != '.' && d != '+' && d != '-')
            return q;
    }
    /* [A-ZĐ]+\. */
    if (is_azd(c)) {
        q = p + 1;
        while (q < n && is_azd(t[q]))
            q++;
        if (q < n && t[q] == '.')
            return q + 1;
    }
    /* Tp\. Mr\. Mrs\. Ms\. Dr\. ThS\. */
    if (c == 'T' || c == 'M' || c == 'D') {
        static const char *lits[] = {"Tp.", "Mr.", "Mrs.", "Ms.", "Dr.", "ThS."};
        for (int k = 0; k < 6; k++)
            if (starts_with(t, n, p, lits[k]))
                return p + (Py_ssize_t)strlen(lits[k]);
    }
    /* ==> -> \.\.\. >> \n */
    if (c == '=' && starts_with(t, n, p, "==>"))
        return p + 3;
    if (c == '-' && starts_with(t, n, p, "->"))
        return p + 2;
    if (c == '.' && starts_with(t, n, p, "..."))
        return p + 3;
    if (c == '>' && starts_with(t, n, p, ">>"))
        return p + 2;
    if (c == '\n')
        return p + 1;
    /* \w+://[^\s]+ */
    if (f & F_WORD) {
        q = p + 1;
        while (q < n && IS_WORD(t[q]))
            q++;
        if (q + 3 < n && t[q] == ':' && t[q + 1] == '/' && t[q + 2] == '/' && !IS_SPACE(t[q + 3])) {
            q += 4;
            while (q < n && !IS_SPACE(t[q]))
                q++;
            return q;
        }
    }
    /* [a-zA-Z0-9_.+-]+@(?:[a-zA-Z0-9-]+\.)+[a-zA-Z0-9-]+: the local part is the rest of the
     * run of its characters, which must end at an "@"; both are remembered, so that a long
     * run costs linear time (Python's regex engine rescans it at every position). */
    if (is_email_local(c)) {
        if (!(p >= memo->run_lo && p < memo->run_hi)) {
            q = p + 1;
            while (q < n && is_email_local(t[q]))
                q++;
            memo->run_lo = p;
            memo->run_hi = q;
        }
        q = memo->run_hi;
        if (q < n && t[q] == '@') {
            if (memo->at != q) {
                memo->at = q;
                memo->at_end = domain_end(t, n, q + 1);
            }
            if (memo->at_end > 0)
                return memo->at_end;
        }
    }
    /* \d+(?:[\.,_]\d+)+ */
    if (f & F_DEC) {
        q = p + 1;
        while (q < n && IS_DEC(t[q]))
            q++;
        int groups = 0;
        while (q + 1 < n && (t[q] == '.' || t[q] == ',' || t[q] == '_') && IS_DEC(t[q + 1])) {
            q += 2;
            while (q < n && IS_DEC(t[q]))
                q++;
            groups++;
        }
        if (groups)
            return q;
    }
    /* [^\w\s] */
    if (!(f & (F_WORD | F_SPACE)))
        return p + 1;
    /* \w+ */
    if (f & F_WORD) {
        q = p + 1;
        while (q < n && IS_WORD(t[q]))
            q++;
        return q;
    }
    return -1;
}

static int
syllabize(const cp_t *t, Py_ssize_t n, Work *w)
{
    EmailMemo memo = {-1, -1, -1, -1};
    w->nsyl = 0;
    for (Py_ssize_t p = 0; p < n;) {
        Py_ssize_t e = match_at(t, n, p, &memo);
        if (e < 0) {
            p++;
            continue;
        }
        if (w->nsyl == w->syl_cap) {
            Py_ssize_t cap = w->syl_cap; /* (both arrays grow alike) */
            if (GROW(w->syl_start, cap, w->nsyl + 1) < 0 ||
                GROW(w->syl_len, w->syl_cap, w->nsyl + 1) < 0)
                return -1;
        }
        w->syl_start[w->nsyl] = p;
        w->syl_len[w->nsyl] = (int32_t)(e - p);
        w->nsyl++;
        p = e;
    }
    return 0;
}

/* --- Cache entries (nlpkit.segmenter._Model.row) ------------------------------------- */

static int
is_punctuation_substring(const cp_t *s, Py_ssize_t n)
{
    /* `syllable in string.punctuation`: a substring test */
    static const char punct[] = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
    Py_ssize_t m = (Py_ssize_t)sizeof(punct) - 1;
    for (Py_ssize_t i = 0; i + n <= m; i++) {
        Py_ssize_t k = 0;
        while (k < n && s[k] == (cp_t)(unsigned char)punct[i + k])
            k++;
        if (k == n)
            return 1;
    }
    return 0;
}

static int
call_bool(PyObject *obj, PyObject *name)
{
    PyObject *r = PyObject_CallMethodNoArgs(obj, name);
    if (r == NULL)
        return -1;
    int v = PyObject_IsTrue(r);
    Py_DECREF(r);
    return v;
}

/* Compute the entry of syllable s[0:n] into *e (its lower-cased form appended to lowers).
 * Calls Python; touches neither the cache nor the per-call buffers of other threads. */
static COLD int
compute_entry(Segmenter *seg, const cp_t *s, Py_ssize_t n, Entry *e, CpBuf *lowers)
{
    int status = -1;
    PyObject *syl = str_from_cp(s, n), *lower = NULL, *first = NULL;
    if (syl == NULL)
        return -1;
    lower = PyObject_CallMethodNoArgs(syl, seg->s_lower);
    if (lower == NULL)
        goto done;
    Py_ssize_t size;
    /* pycrfsuite encodes feature values (fails on lone surrogates); the caller hands texts
     * that hold them to the Python path, which fails as pyvi does. */
    const char *utf8 = PyUnicode_AsUTF8AndSize(lower, &size);
    if (utf8 == NULL)
        goto done;
    /* pycrfsuite passes attribute names to crfsuite as C strings: a NUL ends them. */
    Py_ssize_t klen = (Py_ssize_t)strnlen(utf8, (size_t)size);
    int upper = call_bool(syl, seg->s_isupper);
    int title = call_bool(syl, seg->s_istitle);
    int digit = call_bool(syl, seg->s_isdigit);
    first = PyUnicode_Substring(syl, 0, 1);
    if (upper < 0 || title < 0 || digit < 0 || first == NULL)
        goto done;
    int first_digit = call_bool(first, seg->s_isdigit);
    int first_title = call_bool(first, seg->s_istitle);
    if (first_digit < 0 || first_title < 0)
        goto done;
    Py_ssize_t a = table_find(&seg->lower_attrs, utf8, klen, hash_units(utf8, klen, 1));
    static const LowerWeights none = {{0.0, 0.0}, {0.0, 0.0}, {0.0, 0.0}};
    const LowerWeights *lw = a >= 0 ? &seg->lower_w[a] : &none;
    for (int l = 0; l < 2; l++) {
        /* The state score starts at 0.0 and gets each present attribute's weight in the
         * order of pyvi's feature dict; an absent attribute adds 0.0. */
        double own = 0.0 + seg->bias[l];
        own = own + lw->own[l];
        if (upper)
            own = own + seg->isupper[l];
        if (title)
            own = own + seg->istitle[l];
        if (digit)
            own = own + seg->isdigit[l];
        e->own[l] = own;
        e->prev[l] = lw->prev[l];
        e->next[l] = lw->next[l];
    }
    Py_ssize_t v = table_find(&seg->vocab, utf8, size, hash_units(utf8, size, 1));
    e->vid = v >= 0 ? (int32_t)v : seg->n_vocab;
    int joinable = !is_punctuation_substring(s, n) && !first_digit;
    e->flags = (uint8_t)((joinable ? OK_TO_JOIN : 0) | (first_title ? TITLE_FIRST : 0) |
                         (title ? IS_TITLE : 0) | (upper ? IS_UPPER : 0));
    if (lowers->n + PyUnicode_GET_LENGTH(lower) > INT32_MAX) {
        PyErr_SetString(PyExc_OverflowError, "syllables too long");
        goto done;
    }
    e->lower = (int32_t)lowers->n;
    e->lower_len = (int32_t)PyUnicode_GET_LENGTH(lower);
    if (cp_append_str(lowers, lower) < 0)
        goto done;
    int letter = 0, space = 0, blank = 1;
    for (Py_ssize_t i = 0; i < e->lower_len; i++) {
        uint8_t f = flags_of(lowers->p[e->lower + i]);
        letter |= (f & F_LETTER) != 0;
        space |= (f & F_SPACE) != 0;
        blank &= (f & F_SPACE) != 0;
    }
    e->lflags = (uint8_t)((letter ? LOWER_LETTER : 0) | (space ? LOWER_SPACE : 0) |
                          (blank ? LOWER_BLANK : 0));
    status = 0;
done:
    Py_DECREF(syl);
    Py_XDECREF(lower);
    Py_XDECREF(first);
    return status;
}

/* --- The cache ----------------------------------------------------------------------- */

/* The cache entries of the text's syllables into w->entry (-1 for a missing one); whether
 * one is missing. The hashes first, each slot asked for, then the probes: their misses
 * overlap; then the entries found are asked for, for the CRF. */
static int
find_entries(const Segmenter *seg, Work *w)
{
    const cp_t *t = w->text.p;
    Py_ssize_t n = w->nsyl, size = w->text.n, mask = seg->cache.nslots - 1;
    uint64_t *h = w->keys, *lo = w->keys + n, *hi = w->keys + 2 * n;
    int missing = 0;
    if (seg->cache.nslots == 0) {
        for (Py_ssize_t i = 0; i < n; i++)
            w->entry[i] = -1;
        return n > 0;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t at = w->syl_start[i], len = w->syl_len[i];
        if (short_key(t + at, len, size - at, &lo[i], &hi[i])) {
            h[i] = short_hash(lo[i], hi[i], len);
            PREFETCH(short_slot(&seg->short_cache, h[i]));
        }
        else {
            hi[i] = NOT_SHORT;
            h[i] = hash_units(t + at, len, 4);
            PREFETCH(&seg->cache.slots[h[i] & (uint64_t)mask]);
        }
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t len = w->syl_len[i];
        Py_ssize_t e = hi[i] != NOT_SHORT
                           ? short_find(&seg->short_cache, lo[i], hi[i], len, h[i])
                           : table_find(&seg->cache, t + w->syl_start[i], len, h[i]);
        w->entry[i] = (int32_t)e;
        missing |= e < 0;
        if (e >= 0)
            PREFETCH(&seg->entries[e]);
    }
    return missing;
}

static COLD int
cache_insert(Segmenter *seg, Work *w, Py_ssize_t pe)
{
    const Table *pk = &w->pending_keys;
    const cp_t *key = table_key(pk, pe);
    Py_ssize_t len = pk->recs[pe].length;
    int added;
    Py_ssize_t e = table_add(&seg->cache, key, len, pk->hashes[pe], &added);
    if (e < 0)
        return -1;
    if (!added)
        return 0; /* another thread got there first: the same entry */
    uint64_t lo, hi;
    if (short_key(key, len, len, &lo, &hi) && short_add(&seg->short_cache, lo, hi, len, e) < 0)
        return -1;
    if (grow_aligned(&seg->entries_mem, (void **)&seg->entries, &seg->entries_cap, e + 1,
                     sizeof(Entry)) < 0)
        return -1;
    Entry *dst = &seg->entries[e];
    *dst = w->pending[pe];
    if (seg->lowers.n + dst->lower_len > INT32_MAX) {
        PyErr_SetString(PyExc_OverflowError, "syllables too long");
        return -1;
    }
    dst->lower = (int32_t)seg->lowers.n;
    return cp_extend(&seg->lowers, w->pending_lowers.p + w->pending[pe].lower,
                     w->pending[pe].lower_len);
}

/* Find (adding what is missing) the cache entry of every syllable of the text (w->text) into
 * w->entry. On success no Python code has run since the entries were read, so they stay
 * valid until the caller next calls Python. */
static int
lookup_syllables(Segmenter *seg, Work *w)
{
    const cp_t *t = w->text.p;
    Py_ssize_t n = w->nsyl;
    if (GROW(w->entry, w->entry_cap, n + 1) < 0 || GROW(w->keys, w->keys_cap, 3 * n + 2) < 0)
        return -1;
    for (int round = 0;; round++) {
        /* the cache starts over when full: then every syllable of the text is computed */
        int everything = seg->cache.n > seg->limit || seg->lowers.n > (1 << 30);
        if (!everything && !find_entries(seg, w))
            return 0;
        if (round > 100) {
            PyErr_SetString(PyExc_RuntimeError, "syllable cache keeps starting over");
            return -1;
        }
        /* Compute the missing entries into this call's buffers (calls Python). */
        table_clear(&w->pending_keys);
        w->pending_lowers.n = 0;
        for (Py_ssize_t i = 0; i < n; i++) {
            if (!everything && w->entry[i] >= 0)
                continue;
            const cp_t *s = t + w->syl_start[i];
            Py_ssize_t len = w->syl_len[i];
            int added;
            Py_ssize_t pe = table_add(&w->pending_keys, s, len, hash_units(s, len, 4), &added);
            if (pe < 0)
                return -1;
            if (!added)
                continue;
            if (GROW(w->pending, w->pending_cap, pe + 1) < 0)
                return -1;
            if (compute_entry(seg, s, len, &w->pending[pe], &w->pending_lowers) < 0)
                return -1;
        }
        /* Enter them (no Python from here on). */
        if (seg->cache.n > seg->limit || seg->lowers.n > (1 << 30)) {
            if (!everything)
                continue; /* another thread filled the cache meanwhile: compute everything */
            table_clear(&seg->cache);
            short_clear(&seg->short_cache);
            seg->lowers.n = 0;
            seg->generation++;
        }
        for (Py_ssize_t pe = 0; pe < w->pending_keys.n; pe++)
            if (cache_insert(seg, w, pe) < 0)
                return -1;
        if (!find_entries(seg, w))
            return 0;
        /* another thread started the cache over while this one called Python: again */
    }
}

/* --- The CRF ------------------------------------------------------------------------- */

/* Viterbi labels (1 = I_W) of the text's syllables into w->label, exactly as crfsuite
 * computes them from pyvi's features (nlpkit.segmenter._labels and _viterbi). */
static int
crf_labels(const Segmenter *seg, Work *w)
{
    Py_ssize_t n = w->nsyl;
    if (GROW(w->state, w->state_cap, 2 * n) < 0)
        return -1;
    if (GROW(w->back, w->back_cap, n) < 0 || GROW(w->label, w->label_cap, n) < 0 ||
        GROW(w->gram2, w->gram2_cap, n + 2) < 0 || GROW(w->gram3, w->gram3_cap, n + 2) < 0)
        return -1;
    const Entry *E = seg->entries;
    const int32_t *ent = w->entry;
    /* gram2[i]: syllables i-1, i are a dictionary bigram; gram3[i]: i-2, i-1, i a trigram.
     * The codes first, each slot asked for, then the probes: their misses overlap. */
    if (GROW(w->keys, w->keys_cap, 3 * n + 4) < 0)
        return -1;
    uint64_t *code2 = w->keys, *code3 = w->keys + n + 1;
    /* the syllables' dictionary ids, after two absent ones */
    int32_t none_id = seg->n_vocab, *vid = (int32_t *)(w->keys + 2 * n + 2);
    vid[0] = vid[1] = none_id;
    for (Py_ssize_t i = 0; i < n; i++)
        vid[i + 2] = E[ent[i]].vid;
    for (Py_ssize_t i = 0; i < n; i++) {
        int32_t a = vid[i], b = vid[i + 1], c = vid[i + 2];
        int bc = (b != none_id) & (c != none_id), abc = bc & (a != none_id);
        code2[i] = bc ? gram_code(b, c, 0) : EMPTY_KEY;
        code3[i] = abc ? gram_code(a, b, c) : EMPTY_KEY;
        PREFETCH(keyset_slot(&seg->bigrams, code2[i]));
        PREFETCH(keyset_slot(&seg->trigrams, code3[i]));
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        w->gram2[i] = (uint8_t)keyset_has_code(&seg->bigrams, code2[i]);
        w->gram3[i] = (uint8_t)keyset_has_code(&seg->trigrams, code3[i]);
    }
    w->gram2[n] = w->gram2[n + 1] = w->gram3[n] = w->gram3[n + 1] = 0;
    static const Entry none = {{0.0, 0.0}, {0.0, 0.0}, {0.0, 0.0}, 0, 0, 0, 0, 0, {0, 0}};
    for (Py_ssize_t i = 0; i < n; i++) {
        /* a missing neighbour adds zeros */
        const Entry *g = &E[ent[i]];
        const Entry *gp = i > 0 ? &E[ent[i - 1]] : &none;
        const Entry *gn = i + 1 < n ? &E[ent[i + 1]] : &none;
        int m1 = w->gram2[i], m2 = w->gram3[i], p1 = w->gram2[i + 1], p2 = w->gram3[i + 2];
        int pt = (gp->flags & IS_TITLE) != 0, pu = (gp->flags & IS_UPPER) != 0;
        int nt = (gn->flags & IS_TITLE) != 0, nu = (gn->flags & IS_UPPER) != 0;
        /* crfsuite's sum, term by term in pyvi's feature order (an absent feature adds
         * 0.0); the two labels side by side, which the compiler can add as one pair */
        double s0 = g->own[0], s1 = g->own[1];
#define ADD(weights) (s0 += (weights)[0], s1 += (weights)[1])
        ADD(gp->prev);          /* -1:word.lower() */
        ADD(seg->m1_title[pt]); /* -1:word.istitle() */
        ADD(seg->m1_upper[pu]); /* -1:word.isupper() */
        ADD(seg->m1_bi[m1]);    /* -1:word.bi_gram() */
        ADD(seg->m2_tri[m2]);   /* -2:word.tri_gram() */
        ADD(gn->next);          /* +1:word.lower() */
        ADD(seg->p1_title[nt]); /* +1:word.istitle() */
        ADD(seg->p1_upper[nu]); /* +1:word.isupper() */
        ADD(seg->p1_bi[p1]);    /* +1:word.bi_gram() */
        ADD(seg->p2_tri[p2]);   /* +2:word.tri_gram() */
#undef ADD
        w->state[2 * i] = s0;
        w->state[2 * i + 1] = s1;
    }
    /* crf1dc_viterbi for two labels: label 1 replaces label 0 only when strictly better. */
    double t00 = seg->trans[0], t01 = seg->trans[1], t10 = seg->trans[2], t11 = seg->trans[3];
    double a0 = w->state[0], a1 = w->state[1];
    for (Py_ssize_t i = 1; i < n; i++) {
        double p = a0 + t00, q = a1 + t10, r = a0 + t01, u = a1 + t11;
        int b0 = p < q, b1 = r < u; /* (selects, not branches: their outcome is random) */
        a0 = (b0 ? q : p) + w->state[2 * i];
        a1 = (b1 ? u : r) + w->state[2 * i + 1];
        w->back[i] = (uint8_t)(b0 | b1 << 1); /* bit l: the best predecessor of label l */
    }
    w->label[n - 1] = a0 < a1 ? 1 : 0;
    for (Py_ssize_t i = n - 1; i > 0; i--)
        w->label[i - 1] = (w->back[i] >> w->label[i]) & 1;
    return 0;
}

/* pyvi's joining rule: "_" before an I_W syllable when neither it nor the one before is
 * punctuation or starts with a digit, and it does not start with a title-case letter after
 * one that does not; else " ". w->sep[i] = 1 for "_". */
static int
separators(const Segmenter *seg, Work *w)
{
    Py_ssize_t n = w->nsyl;
    if (GROW(w->sep, w->sep_cap, n + 1) < 0)
        return -1;
    w->sep[0] = 0;
    if (n == 1)
        return 0;
    if (crf_labels(seg, w) < 0)
        return -1;
    const Entry *E = seg->entries;
    for (Py_ssize_t i = 1; i < n; i++) {
        /* (bitwise: each condition is random) */
        unsigned fp = E[w->entry[i - 1]].flags, fc = E[w->entry[i]].flags;
        unsigned title_after_other = (fc & TITLE_FIRST) & ~fp;
        w->sep[i] = (uint8_t)(w->label[i] & fp & fc & OK_TO_JOIN & (title_after_other == 0));
    }
    return 0;
}

/* The segmented text: syllables joined by "_" or " ". */
static PyObject *
joined(const cp_t *t, Work *w)
{
    CpBuf *b = &w->tmp;
    b->n = 0;
    for (Py_ssize_t i = 0; i < w->nsyl; i++) {
        if (i && cp_push(b, w->sep[i] ? '_' : ' ') < 0)
            return NULL;
        if (cp_extend(b, t + w->syl_start[i], w->syl_len[i]) < 0)
            return NULL;
    }
    return str_from_cp(b->p, b->n);
}

/* Normalise (text.normalize with max_chars), then syllables and their cache entries.
 * Returns DONE, INVALID (not a str, or nothing but white space and control characters),
 * NEEDS_PYTHON (no syllables) or FAILED. */
static int
prepare_syllables(Segmenter *seg, PyObject *text, Py_ssize_t max_chars, Work *w)
{
    if (!PyUnicode_Check(text))
        return INVALID;
    /* A text is read from start to end, and it is rarely in the cache (a batch's texts are
     * many): the lines of its first 2 KiB are asked for at once (the processor's own
     * prefetching follows a longer one). */
    const char *data = PyUnicode_DATA(text);
    Py_ssize_t bytes = PyUnicode_GET_LENGTH(text) * PyUnicode_KIND(text);
    for (Py_ssize_t b = 0; b < bytes && b < 2048; b += 64)
        PREFETCH(data + b);
    if (!has_content(text))
        return INVALID;
    if (normalize_prefix(seg, text, max_chars, w, 1) < 0 ||
        syllabize(w->text.p, w->text.n, w) < 0)
        return FAILED;
    if (w->nsyl == 0)
        return NEEDS_PYTHON; /* pyvi returns such a text as it is */
    if (lookup_syllables(seg, w) < 0)
        return FAILED;
    return DONE;
}

/* --- Segmenter methods --------------------------------------------------------------- */

static PyObject *
Segmenter_segment(Segmenter *self, PyObject *text)
{
    if (!PyUnicode_Check(text)) {
        PyErr_Format(PyExc_TypeError, "text must be str, not %.100s", Py_TYPE(text)->tp_name);
        return NULL;
    }
    if (has_surrogates(text))
        Py_RETURN_NONE; /* the Python path fails as pyvi does */
    int own;
    Work *w = take_work(self, &own);
    if (w == NULL)
        return NULL;
    PyObject *out = NULL, *t = nfc(self, text);
    if (t == NULL || cp_from_str(&w->text, t, NULL) < 0 ||
        syllabize(w->text.p, w->text.n, w) < 0)
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

static Py_ssize_t
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

/* prepare(text, max_chars): text.prepare's result, or None where the Python path must
 * answer (an invalid text, which it refuses with the right message; a text without
 * syllables). */
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
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "text must be str");
        return NULL;
    }
    int own;
    Work *w = take_work(self, &own);
    if (w == NULL)
        return NULL;
    PyObject *out = NULL, *list = NULL, *t = nfc(self, text);
    if (t == NULL || cp_from_str(&w->text, t, NULL) < 0 ||
        syllabize(w->text.p, w->text.n, w) < 0)
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

static PyTypeObject SegmenterType = {
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

/* ---------------------------------------------------------------------------------------
 * The Scorer: one model's terms, idf and linear weights
 * ------------------------------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    Segmenter *seg;
    PyObject *names;   /* the topics `topic` answers with (a tuple of str), or NULL */
    Table words;       /* every word of every term (code points) -> word id; the value is the
                          column of the word as a term of its own, or -1 */
    KeyMap bigrams;    /* word ids a << 32 | b of each bigram term -> its column */
    Table grams;       /* word ids of each longer n-gram term -> its column (the value) */
    Py_ssize_t n_terms;
    int k;             /* topics */
    /* One row per term: its idf, then its weight for each topic, padded to a cache line
     * where that fits: a term costs one memory access. Rows are stored in order of rising idf
     * (the terms most texts hold first, near each other in the cache); row_of[column] says
     * where a column's row is. */
    double *rows, *rows_mem;
    int32_t *row_of;
    Py_ssize_t stride;
    double *intercept;
    double *tf;        /* tf[count] = 1.0 + numpy.log(count) (computed by numpy) */
    Py_ssize_t tf_size;
    int sublinear, low, high;
    Py_ssize_t max_chars; /* -1: no cut */
    /* The word id and column of each cache entry's lower-cased syllable as a token (-1: not
     * in the vocabulary; UNKNOWN: not looked up yet), and of pairs of entries joined by
     * "_" (key a << 32 | b), for the segmenter's cache generation. */
    KeySlot *pending; /* bigram terms read, not entered yet */
    Py_ssize_t n_pending, pending_cap;
    int32_t *entry_word; /* two per entry */
    Py_ssize_t entry_word_n, entry_word_cap;
    KeyMap pair_word;
    uint64_t generation;
} Scorer;

#define UNKNOWN (-3)

static size_t
rows_size(const Scorer *self)
{
    return (size_t)(self->n_terms * self->stride + 8) * sizeof(double);
}

static void
Scorer_dealloc(Scorer *self)
{
    Py_XDECREF(self->seg);
    Py_XDECREF(self->names);
    table_free(&self->words);
    keymap_free(&self->bigrams);
    table_free(&self->grams);
    big_free(self->rows_mem, rows_size(self));
    PyMem_Free(self->row_of);
    PyMem_Free(self->intercept);
    PyMem_Free(self->entry_word);
    PyMem_Free(self->pending);
    keymap_free(&self->pair_word);
    PyMem_Free(self->tf);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static double *
copy_doubles(Py_buffer *b, Py_ssize_t expect, const char *what)
{
    if (b->len != expect * (Py_ssize_t)sizeof(double)) {
        PyErr_Format(PyExc_ValueError, "%s: expected %zd float64 values", what, expect);
        return NULL;
    }
    double *out = PyMem_Malloc((size_t)(expect ? expect : 1) * sizeof(double));
    if (out == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    if (PyBuffer_ToContiguous(out, b, b->len, 'C') < 0) {
        PyMem_Free(out);
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
    Py_ssize_t *start = PyMem_Calloc(BUCKETS + 1, sizeof(Py_ssize_t));
    int32_t *bucket = PyMem_Malloc((size_t)(n + 1) * sizeof(int32_t));
    if (start == NULL || bucket == NULL) {
        PyMem_Free(start);
        PyMem_Free(bucket);
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
    PyMem_Free(start);
    PyMem_Free(bucket);
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

static int
Scorer_init(Scorer *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"segmenter", "terms", "idf", "coef", "intercept", "ngram_range",
                             "sublinear_tf", "max_chars", "tf", "names", NULL};
    PyObject *seg, *terms, *mc, *names = NULL;
    Py_buffer idf, coef, intercept, tf, file = {0};
    int low, high, sublinear;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOy*y*y*(ii)pOy*|O!", kwlist, &seg, &terms,
                                     &idf, &coef, &intercept, &low, &high, &sublinear, &mc, &tf,
                                     &PyTuple_Type, &names))
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
        PyMem_Free(idf_own);
        PyMem_Free(coef_own);
        if (!PyErr_Occurred())
            PyErr_NoMemory();
        goto done;
    }
    self->rows = (double *)(((uintptr_t)self->rows_mem + 63) & ~(uintptr_t)63);
    self->row_of = PyMem_Malloc((size_t)(self->n_terms + 1) * sizeof(int32_t));
    if (self->row_of == NULL || order_by_idf(idf_c, self->n_terms, self->row_of) < 0) {
        PyMem_Free(idf_own);
        PyMem_Free(coef_own);
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
    PyMem_Free(idf_own);
    PyMem_Free(coef_own);
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
    PyMem_Free(self->pending);
    self->pending = NULL;
    self->n_pending = self->pending_cap = 0;
    status = 0;
done:
    Py_XDECREF(fast);
    PyMem_Free(buf.p);
    PyMem_Free(first.p);
    PyMem_Free(ids);
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

/* The word ids of the words (tokens with a letter) of the lower-cased segmented text in
 * w->low (nlpkit.vocabulary.analyze: segmented.lower().split(), then the words). */
static int
word_ids(const Scorer *sc, Work *w, int fresh)
{
    const cp_t *t = w->low.p;
    Py_ssize_t n = w->low.n;
    if (fresh)
        w->nids = 0;
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

static void
sync_generation(Scorer *sc, const Segmenter *seg)
{
    if (sc->generation != seg->generation) {
        sc->entry_word_n = 0;
        keymap_clear(&sc->pair_word);
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
    Py_ssize_t n = w->nsyl;
    w->nids = 0;
    sync_generation(sc, seg);
    for (Py_ssize_t i = 0; i < n;) {
        Py_ssize_t j = i + 1;
        while (j < n && w->sep[j])
            j++;
        /* syllables i..j-1 are one white-space separated group */
        if (j == i + 1) {
            const Entry *e = &E[w->entry[i]];
            if (e->lflags & LOWER_BLANK || !(e->lflags & LOWER_LETTER)) {
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
            if ((k > i && cp_push(b, '_') < 0) ||
                cp_extend(b, seg->lowers.p + e->lower, e->lower_len) < 0)
                return -1;
        }
        Py_ssize_t before = w->nids;
        if (word_ids(sc, w, 0) < 0)
            return -1;
        if (pair && w->nids == before + 1) {
            if (sc->pair_word.n > (1 << 16))
                keymap_clear(&sc->pair_word);
            if (keymap_put(&sc->pair_word, pair, w->ids[before], w->ucols[before]) < 0)
                return -1;
        }
        i = j;
    }
    return 0;
}

/* The columns of the text's terms (words, then n-grams) into w->cols. */
static int
term_columns(const Scorer *sc, Work *w)
{
    Py_ssize_t nw = w->nids;
    const int32_t *ids = w->ids;
    w->ncols = 0;
    if (GROW(w->cols, w->cols_cap, 2 * nw + 1) < 0)
        return -1;
    if (sc->low <= 1)
        for (Py_ssize_t i = 0; i < nw; i++)
            if (w->ucols[i] >= 0)
                w->cols[w->ncols++] = (uint32_t)w->ucols[i];
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
        for (Py_ssize_t i = 0; i + 1 < nw; i++) {
            if (ids[i] < 0 || ids[i + 1] < 0)
                continue;
            const KeySlot *b = keymap_find(&sc->bigrams, w->keys[i]);
            if (b)
                w->cols[w->ncols++] = (uint32_t)b->value;
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

/* Scores of one raw text into out[0:k]; DONE, INVALID, NEEDS_PYTHON or FAILED. Leaves the
 * distinct columns and weights in w (see tfidf) and their number in *m. */
static int
score_text(Scorer *sc, PyObject *text, Work *w, double *out, Py_ssize_t *m)
{
    int status = prepare_syllables(sc->seg, text, sc->max_chars, w);
    if (status != DONE)
        return status;
    /* No Python from here on: the cache entries stay where they are. */
    if (separators(sc->seg, w) < 0 || syllable_word_ids(sc, sc->seg, w) < 0 ||
        term_columns(sc, w) < 0)
        return FAILED;
    status = tfidf(sc, w, m);
    if (status == DONE && out)
        linear_scores(sc, w, *m, out);
    return status;
}

static int
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
    if (status < 0 || word_ids(sc, w, 1) < 0 || term_columns(sc, w) < 0)
        return FAILED;
    status = tfidf(sc, w, m);
    if (status == DONE && out)
        linear_scores(sc, w, *m, out);
    return status;
}

static int
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

static PyTypeObject ScorerType = {
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
