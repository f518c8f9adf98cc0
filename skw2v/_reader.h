/* Whitespace tokenizer and byte-string hash table of skw2v's file reader.
 *
 * Tokens are maximal runs of bytes that are not whitespace, where whitespace
 * is what Python's str.split() splits on (ASCII \t \n \v \f \r \x1c-\x1f and
 * space, plus the UTF-8 encodings of U+0085, U+00A0, U+1680, U+2000-U+200A,
 * U+2028, U+2029, U+202F, U+205F, U+3000), so a file gives exactly the tokens
 * of `line.split()` on its decoded lines. Lines end at \n, \r\n or a lone \r
 * (Python's universal newlines).
 *
 * Every buffer handed to these functions must have 8 readable bytes after its
 * last byte (the hash loads whole 64-bit words and masks the tail).
 */
#ifndef SKW2V_READER_H
#define SKW2V_READER_H

#include <Python.h>  /* PyThread locks, for tables shared by threads */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SK_PAD 8

#if defined(__GNUC__) || defined(__clang__)
#define SK_PREFETCH(p) __builtin_prefetch(p)
#else
#define SK_PREFETCH(p) ((void)0)
#endif

enum { SK_TOK = 0, SK_WS = 1, SK_NL = 2, SK_CR = 3, SK_LEAD = 4 };

static uint8_t sk_class[256];
static int sk_class_ready = 0;

static void sk_init_classes(void)
{
    int c;
    if (sk_class_ready)
        return;
    for (c = 0; c < 256; c++)
        sk_class[c] = SK_TOK;
    sk_class['\t'] = sk_class['\v'] = sk_class['\f'] = sk_class[' '] = SK_WS;
    for (c = 0x1c; c <= 0x1f; c++)
        sk_class[c] = SK_WS;
    sk_class['\n'] = SK_NL;
    sk_class['\r'] = SK_CR;
    sk_class[0xC2] = sk_class[0xE1] = sk_class[0xE2] = sk_class[0xE3] = SK_LEAD;
    sk_class_ready = 1;
}

/* Length of the multi-byte whitespace character at p (0 if none). */
static inline int sk_mb_space(const uint8_t *p, int64_t rem)
{
    if (p[0] == 0xC2)
        return (rem >= 2 && (p[1] == 0x85 || p[1] == 0xA0)) ? 2 : 0;
    if (rem < 3)
        return 0;
    if (p[0] == 0xE1)
        return (p[1] == 0x9A && p[2] == 0x80) ? 3 : 0;
    if (p[0] == 0xE2) {
        if (p[1] == 0x80)
            return ((p[2] >= 0x80 && p[2] <= 0x8A) || p[2] == 0xA8 || p[2] == 0xA9
                    || p[2] == 0xAF) ? 3 : 0;
        return (p[1] == 0x81 && p[2] == 0x9F) ? 3 : 0;
    }
    return (p[0] == 0xE3 && p[1] == 0x80 && p[2] == 0x80) ? 3 : 0;
}

/* Python's strict UTF-8 rules: no overlong forms, no surrogates, <= U+10FFFF. */
static int sk_utf8_valid(const uint8_t *s, int64_t n)
{
    int64_t i = 0;
    while (i < n) {
        uint8_t c = s[i], c1;
        if (c < 0x80) { i++; continue; }
        if (c < 0xC2 || c > 0xF4)
            return 0;
        if (c < 0xE0) {
            if (i + 1 >= n || (s[i + 1] & 0xC0) != 0x80) return 0;
            i += 2;
            continue;
        }
        if (i + 1 >= n) return 0;
        c1 = s[i + 1];
        if ((c1 & 0xC0) != 0x80) return 0;
        if (c < 0xF0) {
            if (i + 2 >= n || (s[i + 2] & 0xC0) != 0x80) return 0;
            if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 >= 0xA0)) return 0;
            i += 3;
            continue;
        }
        if (i + 3 >= n || (s[i + 2] & 0xC0) != 0x80 || (s[i + 3] & 0xC0) != 0x80) return 0;
        if ((c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 >= 0x90)) return 0;
        i += 4;
    }
    return 1;
}

static inline uint64_t sk_load_tail(const uint8_t *p, int64_t n)
{
    uint64_t v;
    memcpy(&v, p, 8);  /* SK_PAD readable bytes follow every buffer */
    if (n < 8)
        v &= (((uint64_t)1) << (8 * n)) - 1;  /* little-endian tail; consistent either way */
    return v;
}

static inline uint64_t sk_hash(const uint8_t *p, int64_t n)
{
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ ((uint64_t)n * 0xFF51AFD7ED558CCDULL);
    while (n > 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        h = (h ^ v) * 0xBF58476D1CE4E5B9ULL;
        h ^= h >> 31;
        p += 8;
        n -= 8;
    }
    h = (h ^ sk_load_tail(p, n)) * 0x94D049BB133111EBULL;
    h ^= h >> 29;
    h *= 0xD6E8FEB86659FD93ULL;
    h ^= h >> 32;
    return h;
}

/* ------------------------------------------------------------- scanner */

typedef struct {
    const uint8_t *b;
    int64_t n;       /* bytes in b */
    int64_t i;       /* next byte to read */
    int at_end;      /* b ends at a line boundary (range end / end of file) */
    int mid;         /* bytes of the current line seen (a line to close at EOF) */
} sk_scan;

enum { SK_DONE = 0, SK_TOKEN = 1, SK_LINE = 2 };

/* Next token (SK_TOKEN, *start / *len set) or line end (SK_LINE) or SK_DONE. */
static inline int sk_next(sk_scan *s, int64_t *start, int64_t *len)
{
    const uint8_t *b = s->b;
    int64_t i = s->i, n = s->n, j;
    int m;
    while (i < n) {
        uint8_t c = sk_class[b[i]];
        if (c == SK_TOK)
            break;
        if (c == SK_WS) { i++; s->mid = 1; continue; }
        if (c == SK_NL) { s->i = i + 1; s->mid = 0; return SK_LINE; }
        if (c == SK_CR) {
            if (i + 1 < n) {
                if (b[i + 1] == '\n') { s->i = i + 2; s->mid = 0; return SK_LINE; }
                s->i = i + 1; s->mid = 0; return SK_LINE;
            }
            if (s->at_end) { s->i = i + 1; s->mid = 0; return SK_LINE; }
            i++;  /* cannot happen: blocks are never cut right after a \r */
            s->mid = 1;
            continue;
        }
        m = sk_mb_space(b + i, n - i);
        if (!m)
            break;
        i += m;
        s->mid = 1;
    }
    if (i >= n) {
        s->i = n;
        return SK_DONE;
    }
    j = i + 1;
    while (j < n) {
        uint8_t c = sk_class[b[j]];
        if (c == SK_TOK) { j++; continue; }
        if (c == SK_LEAD && !sk_mb_space(b + j, n - j)) { j++; continue; }
        break;
    }
    *start = i;
    *len = j - i;
    s->i = j;
    s->mid = 1;
    return SK_TOKEN;
}

/* Where to cut a block so that no token (nor \r\n, nor a multi-byte space)
 * is split: after the last \n, else (if allow_space) after the last space or
 * tab; 0 if there is no such byte. */
static int64_t sk_cut(const uint8_t *b, int64_t n, int allow_space)
{
    int64_t i;
    for (i = n; i > 0; i--)
        if (b[i - 1] == '\n')
            return i;
    if (allow_space)
        for (i = n; i > 0; i--)
            if (b[i - 1] == ' ' || b[i - 1] == '\t')
                return i;
    return 0;
}

/* ---------------------------------------------------------- hash table */

typedef struct {
    uint64_t hash;
    int64_t count;
    uint64_t off;    /* key bytes at arena + off; keys of <= 8 bytes sit here instead */
    uint32_t len;
    int32_t id;      /* vocabulary id; in a counting table, 1 if the key is not valid UTF-8 */
} sk_entry;

typedef struct {
    sk_entry *e;
    int64_t n, cap;
    uint64_t *slots;     /* 0 empty, else (hash & 0xFFFFFFFF) << 32 | (entry + 1) */
    uint64_t mask;
    uint8_t *arena;
    uint64_t used, acap;
    int64_t max_types;   /* prune before holding more (0: never) */
    int64_t error;       /* sum of the prune thresholds: a bound on any undercount */
    int64_t n_prunes;
    int64_t total;       /* tokens added */
    int64_t n_waits;     /* shared tables: times a thread waited for this part's lock */
    int counting;        /* flag keys that are not valid UTF-8 */
    char apart[64];      /* the parts of a shared table, side by side in an array, written
                          * by different threads, never share a cache line */
} sk_table;

static int sk_table_init(sk_table *t, int64_t max_types, int counting)
{
    memset(t, 0, sizeof(*t));
    t->max_types = max_types;
    t->counting = counting;
    t->cap = 1024;
    t->e = (sk_entry *)malloc(t->cap * sizeof(sk_entry));
    t->mask = 2047;
    t->slots = (uint64_t *)calloc(t->mask + 1, sizeof(uint64_t));
    t->acap = 1 << 16;
    t->arena = (uint8_t *)malloc(t->acap + SK_PAD);
    if (!t->e || !t->slots || !t->arena)
        return -1;
    memset(t->arena, 0, t->acap + SK_PAD);
    return 0;
}

static void sk_table_free(sk_table *t)
{
    free(t->e);
    free(t->slots);
    free(t->arena);
    t->e = NULL;
    t->slots = NULL;
    t->arena = NULL;
    t->n = 0;
}

#define SK_INLINE 8  /* keys this short live in the entry: no arena access */

static inline const uint8_t *sk_key(const sk_table *t, const sk_entry *e)
{
    return e->len <= SK_INLINE ? (const uint8_t *)&e->off : t->arena + e->off;
}

static inline int64_t sk_find(const sk_table *t, const uint8_t *key, int64_t len, uint64_t h)
{
    uint64_t idx = h & t->mask, lo = h & 0xFFFFFFFFULL;
    uint64_t word = len <= SK_INLINE ? sk_load_tail(key, len) : 0;
    for (;;) {
        uint64_t s = t->slots[idx];
        if (!s)
            return -1;
        if ((s >> 32) == lo) {
            const sk_entry *e = t->e + ((s & 0xFFFFFFFFULL) - 1);
            if (e->hash == h && e->len == (uint64_t)len
                    && (len <= SK_INLINE ? e->off == word
                        : memcmp(t->arena + e->off, key, len) == 0))
                return (int64_t)((s & 0xFFFFFFFFULL) - 1);
        }
        idx = (idx + 1) & t->mask;
    }
}

static void sk_place(sk_table *t, int64_t k)
{
    uint64_t h = t->e[k].hash, idx = h & t->mask;
    while (t->slots[idx])
        idx = (idx + 1) & t->mask;
    t->slots[idx] = (h << 32) | (uint64_t)(k + 1);
}

/* A slot keeps the low 32 bits of its key's hash, which hold the key's index
 * in any table of up to 2^32 slots: growing reads the old slots in order and
 * writes the new ones nearly in order (two streams), never an entry, so the
 * lock of a shared table's part is held a short time while it grows. */
static int sk_rehash(sk_table *t, uint64_t n_slots)
{
    uint64_t i, idx, s, mask = n_slots - 1, *old = t->slots;
    uint64_t *slots = n_slots <= ((uint64_t)1 << 32)
        ? (uint64_t *)calloc(n_slots, sizeof(uint64_t)) : NULL;
    if (!slots)
        return -1;
    for (i = 0; i <= t->mask; i++) {
        s = old[i];
        if (!s)
            continue;
        for (idx = (s >> 32) & mask; slots[idx]; idx = (idx + 1) & mask)
            ;
        slots[idx] = s;
    }
    free(old);
    t->slots = slots;
    t->mask = mask;
    return 0;
}

/* k-th smallest of a[0:n) (a is reordered). */
static int64_t sk_select(int64_t *a, int64_t n, int64_t k)
{
    int64_t lo = 0, hi = n - 1;
    while (lo < hi) {
        int64_t pivot = a[lo + (hi - lo) / 2], i = lo, j = hi, tmp;
        while (i <= j) {
            while (a[i] < pivot) i++;
            while (a[j] > pivot) j--;
            if (i <= j) { tmp = a[i]; a[i] = a[j]; a[j] = tmp; i++; j--; }
        }
        if (k <= j) hi = j;
        else if (k >= i) lo = i;
        else return a[k];
    }
    return a[k];
}

/* Misra-Gries step over a full table: subtract the median count d from every
 * count and drop the entries that reach 0 (at least half of them). At least
 * half the entries lose d each, so the steps remove >= max_types/2 * d of the
 * N counted tokens in all: the sum of the d (`error`) stays <= 2 N / max_types,
 * and no count is ever more than `error` below its true value. */
static int sk_prune(sk_table *t)
{
    int64_t k, w = 0, d;
    uint64_t used = 0;
    int64_t *tmp = (int64_t *)malloc((t->n > 0 ? t->n : 1) * sizeof(int64_t));
    if (!tmp)
        return -1;
    for (k = 0; k < t->n; k++)
        tmp[k] = t->e[k].count;
    d = sk_select(tmp, t->n, (t->n - 1) / 2);
    free(tmp);
    /* Keys sit in the arena in entry order, so compaction moves them forward. */
    for (k = 0; k < t->n; k++) {
        sk_entry e = t->e[k];
        if (e.count <= d)
            continue;
        e.count -= d;
        if (e.len > SK_INLINE) {
            if (e.off != used)
                memmove(t->arena + used, t->arena + e.off, e.len);
            e.off = used;
            used += e.len;
        }
        t->e[w++] = e;
    }
    t->n = w;
    t->used = used;
    memset(t->slots, 0, (t->mask + 1) * sizeof(uint64_t));
    for (k = 0; k < t->n; k++)
        sk_place(t, k);
    t->error += d;
    t->n_prunes += 1;
    return 0;
}

/* Entry of key (inserted with count 0 if new); -1 when out of memory. */
static int64_t sk_intern(sk_table *t, const uint8_t *key, int64_t len, uint64_t h)
{
    int64_t k = sk_find(t, key, len, h);
    sk_entry *e;
    if (k >= 0)
        return k;
    if (t->max_types > 0 && t->n >= t->max_types && sk_prune(t) < 0)
        return -1;
    if (t->n == t->cap) {
        int64_t cap = t->cap * 2;
        sk_entry *grown = (sk_entry *)realloc(t->e, cap * sizeof(sk_entry));
        if (!grown)
            return -1;
        t->e = grown;
        t->cap = cap;
    }
    if ((uint64_t)(t->n + 1) * 2 > t->mask + 1 && sk_rehash(t, (t->mask + 1) * 2) < 0)
        return -1;
    if (len > SK_INLINE && t->used + (uint64_t)len > t->acap) {
        uint64_t acap = t->acap * 2;
        uint8_t *grown;
        while (acap < t->used + (uint64_t)len)
            acap *= 2;
        grown = (uint8_t *)realloc(t->arena, acap + SK_PAD);
        if (!grown)
            return -1;
        memset(grown + t->used, 0, acap + SK_PAD - t->used);
        t->arena = grown;
        t->acap = acap;
    }
    k = t->n++;
    e = t->e + k;
    e->hash = h;
    e->count = 0;
    e->len = (uint32_t)len;
    e->id = (t->counting && !sk_utf8_valid(key, len)) ? 1 : 0;
    if (len <= SK_INLINE) {
        e->off = sk_load_tail(key, len);
    } else {
        memcpy(t->arena + t->used, key, len);
        e->off = t->used;
        t->used += len;
    }
    sk_place(t, k);
    return k;
}

/* Error codes of the scanning functions. */
enum { SK_OK = 0, SK_NOMEM = -1, SK_BAD_UTF8 = -2 };

/* Count the tokens of b[0:n) into t. Lines ended are added to *n_lines, tokens
 * to *n_tokens. With strict, a token that is not valid UTF-8 stops the scan:
 * SK_BAD_UTF8 with *bad_at its offset in b. */
/* Tokens are handled in batches: the scan hashes a batch and prefetches the
 * slot of each token, a second loop prefetches the entry each slot points
 * to, and only then are the tokens looked up, so the cache misses of a large
 * table overlap instead of stalling one token at a time. */
#define SK_BATCH 64

typedef struct {
    int64_t start;
    int64_t len;     /* -1: a line ends here */
    uint64_t hash;
} sk_item;

/* Scan up to SK_BATCH items; returns how many (0: the buffer is done). */
static inline int sk_fill(const sk_table *t, sk_scan *s, sk_item *items)
{
    int m = 0, r;
    int64_t start = 0, len = 0;
    while (m < SK_BATCH && (r = sk_next(s, &start, &len)) != SK_DONE) {
        if (r == SK_LINE) {
            items[m].len = -1;
        } else {
            uint64_t h = sk_hash(s->b + start, len);
            items[m].start = start;
            items[m].len = len;
            items[m].hash = h;
            SK_PREFETCH(t->slots + (h & t->mask));
        }
        m++;
    }
    for (r = 0; r < m; r++) {
        if (items[r].len >= 0) {
            uint64_t slot = t->slots[items[r].hash & t->mask];
            if (slot)
                SK_PREFETCH(t->e + ((slot & 0xFFFFFFFFULL) - 1));
        }
    }
    return m;
}

static int sk_count(sk_table *t, sk_scan *s, int strict, int64_t *n_tokens, int64_t *n_lines,
                    int64_t *bad_at)
{
    sk_item items[SK_BATCH];
    int64_t k, tokens = 0, lines = 0;
    int m, j, status = SK_OK;
    while (status == SK_OK && (m = sk_fill(t, s, items)) > 0) {
        for (j = 0; j < m; j++) {
            const sk_item *it = items + j;
            if (it->len < 0) { lines++; continue; }
            k = sk_intern(t, s->b + it->start, it->len, it->hash);
            if (k < 0) { status = SK_NOMEM; break; }
            if (strict && t->e[k].id) { *bad_at = it->start; status = SK_BAD_UTF8; break; }
            t->e[k].count++;
            tokens++;
        }
    }
    t->total += tokens;
    *n_tokens += tokens;
    *n_lines += lines;
    return status;
}

/* ------------------------------------------- a table shared by several threads
 *
 * Threads that count into one table share it split by hash into parts, each
 * an sk_table with its own lock (Python's thread locks: portable, usable
 * without the GIL, and a thread that waits sleeps rather than spins on a
 * busy machine). Each token type lives in one part only, so the threads
 * neither hold nor insert a type twice, nor merge tables at the end (a
 * serial step): with a table per thread, each grew to most of the types and
 * the counting pass scaled 1.4x from 1 to 2 threads. A thread hashes its
 * tokens without a lock, keeps them in a buffer per part, and adds a
 * buffer under the part's lock when that lock is free. */
#define SK_GROUP 4096       /* a part's tokens added at once, if its lock is free */
#define SK_HELD (1 << 16)   /* room for the tokens that wait for their part, per call */
#define SK_MIN_ROOM 512     /* room per part, at least (many parts) */
#define SK_AHEAD 16         /* tokens between a slot's prefetch and its use */

static inline int sk_part_of(uint64_t h, int n_parts)
{
    /* the high bits pick the part; the slot index of a part uses the low bits */
    return (int)(((h >> 32) * (uint64_t)n_parts) >> 32);
}

/* Add items[0:m) (tokens of b) to t, prefetching the slot, then the entry, of
 * the items a few places ahead. Returns SK_OK, SK_NOMEM, or SK_BAD_UTF8 (strict)
 * with *bad_at the offset of the first such token of the items. */
static int sk_add_items(sk_table *t, const uint8_t *b, const sk_item *items, int64_t m,
                        int strict, int64_t *bad_at)
{
    int64_t i, k;
    for (i = 0; i < m + 2 * SK_AHEAD; i++) {
        if (i < m)
            SK_PREFETCH(t->slots + (items[i].hash & t->mask));
        if (i >= SK_AHEAD && i - SK_AHEAD < m) {
            uint64_t slot = t->slots[items[i - SK_AHEAD].hash & t->mask];
            if (slot)
                SK_PREFETCH(t->e + ((slot & 0xFFFFFFFFULL) - 1));
        }
        if (i >= 2 * SK_AHEAD) {
            const sk_item *it = items + (i - 2 * SK_AHEAD);
            k = sk_intern(t, b + it->start, it->len, it->hash);
            if (k < 0)
                return SK_NOMEM;
            if (strict && t->e[k].id) {
                *bad_at = it->start;
                return SK_BAD_UTF8;
            }
            t->e[k].count++;
        }
    }
    t->total += m;
    return SK_OK;
}

/* sk_count into parts[0:n_parts), guarded by locks[0:n_parts); several threads
 * may call it at once. Each part's tokens wait in a buffer, added once a
 * group of them (SK_GROUP, fewer with many parts) wait and the part's lock
 * is free. When it is busy they keep waiting while the scan goes on (up to
 * SK_HELD tokens in all, the buffers' room), so a thread rarely waits for a
 * lock except at the end of b. With strict, *bad_at is the first invalid
 * token of b (on finding one, every buffered token is still looked at: an
 * earlier one may wait in another part's buffer). */
static int sk_count_parts(sk_table *parts, PyThread_type_lock *locks, int n_parts, sk_scan *s,
                          int strict, int64_t *n_tokens, int64_t *n_lines, int64_t *bad_at)
{
    sk_item *items, *it;
    int64_t *n_held, *limit, room, group, tokens = 0, lines = 0, start = 0, len = 0, bad;
    int64_t first_bad = -1;
    int r = SK_TOKEN, p, q, full = 0, first = 0, status = SK_OK, st;
    uint64_t h;
    room = SK_HELD / n_parts > SK_MIN_ROOM ? SK_HELD / n_parts : SK_MIN_ROOM;  /* per part */
    group = room / 2 < SK_GROUP ? room / 2 : SK_GROUP;
    items = (sk_item *)malloc((size_t)n_parts * room * sizeof(sk_item)
                              + 2 * n_parts * sizeof(int64_t));
    if (!items)
        return SK_NOMEM;
    n_held = (int64_t *)(items + (size_t)n_parts * room);
    limit = n_held + n_parts;   /* try the part's lock when this many wait */
    for (p = 0; p < n_parts; p++) {
        n_held[p] = 0;
        limit[p] = group;
    }
    while (status == SK_OK) {
        while (!full && (r = sk_next(s, &start, &len)) != SK_DONE) {
            if (r == SK_LINE) {
                lines++;
                continue;
            }
            h = sk_hash(s->b + start, len);
            p = sk_part_of(h, n_parts);
            it = items + (size_t)p * room + n_held[p];
            it->start = start;
            it->len = len;
            it->hash = h;
            full = ++n_held[p] == limit[p];
            tokens++;
        }
        /* Add every buffer whose part is free. A busy part's buffer waits
         * for more tokens, unless it is full or b is done: then wait for it. */
        full = 0;
        for (q = 0; q < n_parts; q++) {
            p = (first + q) % n_parts;
            if (!n_held[p])
                continue;
            if (!PyThread_acquire_lock(locks[p], NOWAIT_LOCK)) {
                if (n_held[p] + group <= room && r != SK_DONE && status == SK_OK) {
                    limit[p] = n_held[p] + group;
                    continue;
                }
                PyThread_acquire_lock(locks[p], WAIT_LOCK);
                parts[p].n_waits++;
            }
            bad = -1;
            st = sk_add_items(parts + p, s->b, items + (size_t)p * room, n_held[p], strict,
                              &bad);
            PyThread_release_lock(locks[p]);
            n_held[p] = 0;
            limit[p] = group;
            if (st == SK_BAD_UTF8 && (first_bad < 0 || bad < first_bad))
                first_bad = bad;
            if (st != SK_OK && status != SK_NOMEM)
                status = st;
            if (status == SK_NOMEM)
                break;
            if (status == SK_BAD_UTF8)
                q = -1;  /* sweep again: wait for every part still holding tokens */
        }
        first = (first + 1) % n_parts;
        if (r == SK_DONE)
            break;
    }
    free(items);
    if (status == SK_BAD_UTF8)
        *bad_at = first_bad;
    *n_tokens += tokens;
    *n_lines += lines;
    return status;
}

/* Encode b[0:n) with a vocabulary table: the id of every known token is
 * appended to out (unknown tokens are dropped); at every line end the number
 * of ids written so far (*n_out) is appended to line_ends. out needs room for
 * n / 2 + 1 ids, line_ends for n + 1 entries. docs[2 id + 1] counts the
 * documents holding id and docs[2 id] is the serial + 1 of the last one
 * (side by side: one cache line per token); *doc_serial is the current
 * document. With strict, an unknown token that is not valid UTF-8 stops the
 * scan: SK_BAD_UTF8 with *bad_at its offset (the output is then partial). */
static int sk_encode(const sk_table *v, sk_scan *s, int32_t *out, int64_t *n_out,
                     int64_t *line_ends, int64_t *n_lines, int64_t *n_seen,
                     int64_t *docs, int64_t *doc_serial, int strict, int64_t *bad_at)
{
    sk_item items[SK_BATCH];
    int32_t ids[SK_BATCH];
    int64_t k, w = *n_out, nl = *n_lines, seen = 0, doc = *doc_serial + 1;
    int m, j;
    while ((m = sk_fill(v, s, items)) > 0) {
        for (j = 0; j < m; j++) {  /* ids first, prefetching their document counters */
            const sk_item *it = items + j;
            ids[j] = -1;
            if (it->len < 0)
                continue;
            k = sk_find(v, s->b + it->start, it->len, it->hash);
            if (k >= 0) {
                ids[j] = v->e[k].id;
                SK_PREFETCH(docs + 2 * (int64_t)ids[j]);
            } else if (strict && !sk_utf8_valid(s->b + it->start, it->len)) {
                *bad_at = it->start;
                return SK_BAD_UTF8;
            }
        }
        for (j = 0; j < m; j++) {
            if (items[j].len < 0) {
                line_ends[nl++] = w;
                doc++;
                continue;
            }
            seen++;
            if (ids[j] >= 0) {
                int64_t *d = docs + 2 * (int64_t)ids[j];
                out[w++] = ids[j];
                if (d[0] != doc) {
                    d[0] = doc;
                    d[1]++;
                }
            }
        }
    }
    *n_out = w;
    *n_lines = nl;
    *n_seen += seen;
    *doc_serial = doc - 1;
    return SK_OK;
}

/* Encode b[0:n) giving every token the index of its entry in t, inserting
 * new tokens (t must be uncapped, so indices stay stable) and counting them:
 * provisional ids in order of first appearance. Line ends as in sk_encode.
 * Returns SK_OK, SK_NOMEM, or SK_BAD_UTF8 (strict) with *bad_at set. */
static int sk_intern_encode(sk_table *t, sk_scan *s, int strict, int32_t *out, int64_t *n_out,
                            int64_t *line_ends, int64_t *n_lines, int64_t *bad_at)
{
    int64_t start = 0, len = 0, k, w = *n_out, nl = *n_lines;
    int r, status = SK_OK;
    while ((r = sk_next(s, &start, &len)) != SK_DONE) {
        if (r == SK_LINE) {
            line_ends[nl++] = w;
            continue;
        }
        k = sk_intern(t, s->b + start, len, sk_hash(s->b + start, len));
        if (k < 0 || k > INT32_MAX) { status = SK_NOMEM; break; }
        if (strict && t->e[k].id) { *bad_at = start; status = SK_BAD_UTF8; break; }
        t->e[k].count++;
        t->total++;
        out[w++] = (int32_t)k;
    }
    *n_out = w;
    *n_lines = nl;
    return status;
}

#endif
