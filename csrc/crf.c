/* pyvi's CRF segmenter: its crfsuite model and dictionary, Viterbi labels, the words joined. */

#include "core.h"

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

int
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
    Feature *features = PyMem_RawMalloc(sizeof(Feature) * (n_features ? n_features : 1));
    uint8_t *seen = PyMem_RawCalloc(2, 1);
    if (features == NULL || seen == NULL) {
        PyMem_RawFree(features);
        PyMem_RawFree(seen);
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
    PyMem_RawFree(features);
    PyMem_RawFree(seen);
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
int
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
    PyMem_RawFree(grams);
    return 0;
fail:
    PyMem_RawFree(grams);
    return -1;
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
int
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
PyObject *
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

