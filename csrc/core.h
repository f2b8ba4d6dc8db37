/* nlpkit._core's internal header: its types, the helpers every file inlines, the shared calls. */

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
 * enters the cache, unless the case table (read from Python at import) knows each of its
 * characters. A text the core does not handle (see NEEDS_PYTHON) is handed back to the
 * Python path.
 *
 * Every function runs with the GIL held but two, which let other threads run meanwhile: the
 * scan of json_lines, which touches no Python object, and Scorer.scores_cp (a stream's texts,
 * given as code points), which takes the GIL back only to call Python (a syllable not in the
 * cache with a character the case table does not know, a text only the str path reads). A
 * call holds its segmenter's lock from take_work to give_work, so no other thread reads or
 * changes the cache, or the scorer's own caches, while one scores without the GIL. Python is
 * called only while preparing a text and while computing new cache entries into private
 * buffers; the cache and the per-call buffers are read and written only in stretches without
 * Python calls, so that a call made from within one (a finaliser: the lock is the thread's
 * own) cannot change them under it.
 *
 * Compile without floating-point contraction (-ffp-contract=off): a fused multiply-add
 * rounds once where numpy rounds twice.
 */

#ifndef NLPKIT_CORE_H
#define NLPKIT_CORE_H

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

/* What the files share is for each other only: hidden from other shared objects, their
 * functions are called directly, not through the PLT, as the static functions of one file
 * were. (PyInit__core is exported by PyMODINIT_FUNC's own attribute.) */
#if defined(__GNUC__) && !defined(_WIN32)
#pragma GCC visibility push(hidden)
#endif

typedef uint32_t cp_t; /* one code point */

/* Results of handling one text (NEEDS_STR: a text given as code points that takes the
 * path of a str, for a step only that path does). */
enum { DONE = 0, INVALID = 1, NEEDS_PYTHON = 2, NEEDS_STR = 3, FAILED = -1 };

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
    F_CTRL = 64,    /* nlpkit.text._CONTROL: replaced by a space */
    F_SPACES = 128, /* nlpkit.text._SPACES: runs collapse to one space */
    /* Both bits (no character is both a control and a space; eight bits hold the table):
     * nlpkit.text._INVISIBLE, removed. Content for no one, as a control character is not. */
    F_INVISIBLE = F_CTRL | F_SPACES
};

#define IS_INVISIBLE(f) (((f) & F_INVISIBLE) == F_INVISIBLE)

#define TABLE_SIZE 0x10000

extern uint8_t char_flags[TABLE_SIZE];
COLD uint8_t compute_flags(cp_t c);

static inline uint8_t
flags_of(cp_t c)
{
    return c < TABLE_SIZE ? char_flags[c] : compute_flags(c);
}

/* Characters that NFC leaves as they are wherever they stand: combining class 0, NFC on their
 * own, never the second half of a composition. A text of nothing else is NFC, and the core
 * skips asking Python. Read from Python's unicodedata at import for the ranges Vietnamese
 * text is written in (Latin, its precomposed letters with tone marks, punctuation); the
 * tests check the third condition over all of Unicode. Its second bit marks "&", which may
 * begin an HTML character reference (normalize.c's clean_lines). */
#define INERT_LIMIT 0x2070

extern uint8_t nfc_inert[INERT_LIMIT];

#define INERT(c) ((c) < INERT_LIMIT && nfc_inert[c])

/* The case of the characters Vietnamese text is written in (Latin and its letters with tone
 * marks), read from Python's own str methods at import: each one's str.lower (when it is one
 * character) and Py_UNICODE_ISUPPER, ISLOWER, ISTITLE and ISDIGIT, the tests str.isupper,
 * istitle and isdigit are made of. A syllable of nothing else gets its cache entry without
 * calling Python (syllables.c); the tests compare the two ways on every such character. */
#define CASE_LIMIT 0x1F00

enum { C_KNOWN = 1, C_UPPER = 2, C_LOWER = 4, C_TITLE = 8, C_DIGIT = 16 };

extern uint8_t case_flags[CASE_LIMIT];
extern cp_t case_lower[CASE_LIMIT];

#define IS_SPACE(c) (flags_of(c) & F_SPACE)
#define IS_WORD(c) (flags_of(c) & F_WORD)
#define IS_DEC(c) (flags_of(c) & F_DEC)

COLD int grow(void **p, Py_ssize_t *cap, Py_ssize_t need, size_t unit);

/* (the common case, room enough, decided inline) */
#define GROW(arr, cap, need) \
    ((need) <= (cap) ? 0 : grow((void **)&(arr), &(cap), (need), sizeof(*(arr))))

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
    Py_ssize_t title; /* how many of the ids are the first line's, to count twice; -1: none */
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
    /* The generation from which a child of a fork started the cache anew: a scorer whose
     * caches are older leaves them, as the segmenter left its own (see seg_lock). */
    uint64_t fork_generation;
    Work spare;
    int spare_busy;
    /* Who may use the cache: a call holds `lock` from take_work to give_work (its thread
     * `owner`, `depth` calls deep), so that a call scoring without the interpreter's lock
     * (`saved`, its thread state meanwhile) reads the cache while no other thread changes it.
     * `forks`: the process's fork count when the lock was made (a child starts a new one). */
    PyThread_type_lock lock;
    unsigned long owner;
    int depth;
    unsigned long forks;
    PyThreadState *saved;
    PyObject *normalize; /* unicodedata.normalize */
    PyObject *nfc;       /* "NFC" */
    PyObject *markup;  /* nlpkit.markup.read_markup, or NULL */
    PyObject *s_lower, *s_isupper, *s_istitle, *s_isdigit;
} Segmenter;

extern PyTypeObject SegmenterType, ScorerType;

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
    double *tf;        /* tf[count] = 1.0 + log(count): nlpkit.vocabulary.log_tf, the C library's log */
    Py_ssize_t tf_size;
    int sublinear, low, high;
    int repeat_title;     /* the first line's words once more before the text's */
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

/* --- What the files call of each other ---------------------------------------------- */

/* tables.c (and grow, above) */
void *big_alloc(size_t size);
void big_free(void *p, size_t size);
int grow_aligned(void **raw, void **p, Py_ssize_t *cap, Py_ssize_t need, size_t unit);
int cp_extend(CpBuf *b, const cp_t *s, Py_ssize_t n);
int cp_from_str(CpBuf *b, PyObject *s, int *surrogates);
int cp_append_str(CpBuf *b, PyObject *s);
PyObject *str_from_cp(const cp_t *s, Py_ssize_t n);
void table_free(Table *t);
void table_clear(Table *t);
COLD Py_ssize_t table_add(Table *t, const void *key, Py_ssize_t n, uint64_t h, int *added);
void keymap_free(KeyMap *m);
int keymap_reserve(KeyMap *m, Py_ssize_t n);
void keymap_clear(KeyMap *m);
COLD int keymap_put(KeyMap *m, uint64_t key, int32_t value, int32_t extra);
int keyset_add(KeySet *m, uint64_t key);
void work_free(Work *w);
COLD int short_add(ShortMap *m, uint64_t lo, uint64_t hi, Py_ssize_t len, Py_ssize_t e);
void short_clear(ShortMap *m);

/* normalize.c */
void init_char_flags(void);
void init_nfc_inert(void);
void init_case_table(void);
COLD PyObject *nfc(Segmenter *seg, PyObject *s);
int has_content(PyObject *s);
int has_surrogates(PyObject *s);
int normalize_prefix(Segmenter *seg, PyObject *s, Py_ssize_t max_chars, Work *w, int sur);
int normalize_cp(Segmenter *seg, const cp_t *s, Py_ssize_t n, Py_ssize_t max_chars, Work *w);

/* syllables.c */
int syllabize(const cp_t *t, Py_ssize_t n, Work *w);
int lookup_syllables(Segmenter *seg, Work *w);
PyObject *entry_both_ways(Segmenter *seg, const cp_t *s, Py_ssize_t n);
int prepare_syllables(Segmenter *seg, PyObject *text, Py_ssize_t max_chars, Work *w);
int prepare_syllables_cp(Segmenter *seg, const cp_t *t, Py_ssize_t n, Py_ssize_t max_chars,
                         Work *w);

/* crf.c */
int load_crfsuite(Segmenter *seg, const uint8_t *d, Py_ssize_t size);
int load_words(Segmenter *seg, const uint8_t *d, Py_ssize_t size);
int separators(const Segmenter *seg, Work *w);
PyObject *joined(const cp_t *t, Work *w);

/* scorer.c */
void Scorer_dealloc(Scorer *self);
int Scorer_init(Scorer *self, PyObject *args, PyObject *kwds);
int score_text(Scorer *sc, PyObject *text, Work *w, double *out, Py_ssize_t *m);
int score_prepared(Scorer *sc, PyObject *text, Work *w, double *out, Py_ssize_t *m);
int score_cp(Scorer *sc, const cp_t *t, Py_ssize_t n, Work *w, double *out, Py_ssize_t *m);
int argmax(const double *s, int k);

/* segmenter_type.c */
Py_ssize_t max_chars_arg(PyObject *o, int *ok);

/* jsonlines.c */
PyObject *core_json_lines(PyObject *module, PyObject *args);

/* module.c: how many times this process came out of a fork (as a child) */
extern unsigned long core_forks;

/* The segmenter's lock, for this thread (reentrant: a finaliser or a Python call inside a call
 * may call again). The interpreter's lock is let go while waiting for it: the thread that holds
 * it may be waiting for the interpreter's. -1 (an error set) if no lock can be made. */
int seg_lock(Segmenter *seg);
void seg_unlock(Segmenter *seg);

/* While a call runs without the interpreter's lock, the few steps that need Python (a syllable
 * not in the cache, a text only the str path reads) take it back: gil_hold returns what
 * gil_drop needs to let it go again (NULL: the call held it all along). */
static inline PyThreadState *
gil_hold(Segmenter *seg)
{
    PyThreadState *t = seg->saved;
    if (t != NULL) {
        seg->saved = NULL;
        PyEval_RestoreThread(t);
    }
    return t;
}

static inline void
gil_drop(Segmenter *seg, PyThreadState *t)
{
    if (t != NULL)
        seg->saved = PyEval_SaveThread();
}

/* An allocation failed: MemoryError, where the interpreter's lock is held; without it, the
 * call sets it once it has the lock again (scores_cp). */
static inline void
no_memory(void)
{
    if (PyGILState_Check())
        PyErr_NoMemory();
}

/* segmenter_type.c, scorer_type.c: the per-call buffers, the segmenter's own while no other
 * call holds them (a call that re-enters, from another thread or a finaliser, gets buffers of
 * its own), and the segmenter's lock. */
static inline Work *
take_work(Segmenter *seg, int *own)
{
    if (seg_lock(seg) < 0)
        return NULL;
    if (!seg->spare_busy) {
        seg->spare_busy = 1;
        *own = 0;
        return &seg->spare;
    }
    Work *w = PyMem_RawCalloc(1, sizeof(Work));
    if (w == NULL) {
        seg_unlock(seg);
        PyErr_NoMemory();
    }
    else
        w->pending_keys.unit = 4;
    *own = 1;
    return w;
}

static inline void
give_work(Segmenter *seg, Work *w, int own)
{
    if (own) {
        work_free(w);
        PyMem_RawFree(w);
    }
    else
        seg->spare_busy = 0;
    seg_unlock(seg);
}

/* jsonfield.c: the text and title of a JSON-object line (nlpkit.batch's records) */
typedef struct {
    const char *s;
    Py_ssize_t n;
} JsonKey;

typedef struct {
    JsonKey text, title;
    JsonKey reserved[8]; /* keys that send a line to orjson (nlpkit's output fields) */
    int n_reserved;
} JsonKeys;

typedef struct {
    /* the bytes between the quotes of the text's and the title's strings (title: NULL when
     * absent or null), and whether each holds an escape */
    const unsigned char *text, *text_end, *title, *title_end;
    int text_escaped, title_escaped;
    const unsigned char *close; /* the object's closing brace */
} JsonFields;

int json_fields(const unsigned char *s, Py_ssize_t n, const JsonKeys *keys, JsonFields *f);
cp_t *json_string_cp(const unsigned char *p, const unsigned char *end, int escaped, cp_t *out);

/* words.c */
PyObject *core_number_tokens(PyObject *module, PyObject *texts);
PyObject *core_count_ngrams(PyObject *module, PyObject *args);
PyObject *core_keep_columns(PyObject *module, PyObject *args);

#if defined(__GNUC__) && !defined(_WIN32)
#pragma GCC visibility pop
#endif

#endif /* NLPKIT_CORE_H */
