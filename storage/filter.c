/* The per-block token filter: a small blocked Bloom filter over the tokens
 * of a block's lines, so a line-filter query (|= "needle") can skip blocks
 * that cannot contain its needle without decompressing them.
 *
 * Tokenizer: a token is a maximal run of token bytes, which are the ASCII
 * letters and digits [0-9A-Za-z] and every byte >= 0x80 (so UTF-8 words are
 * tokens); all other bytes separate tokens. Tokens of at least 3 bytes are
 * indexed, exactly as they are: LogQL's |= is case-sensitive, so no case
 * folding, and no n-grams.
 *
 * Query: a literal needle is checked through its complete inner tokens, the
 * tokens that have a separator on both sides INSIDE the needle (a token
 * touching the needle's start or end may be part of a longer token of the
 * line, so it proves nothing). If a line contains the needle, each complete
 * inner token of the needle is a maximal token of that line too, and was
 * indexed: the filter never gives a false negative. A needle without such a
 * token (e.g. a single word) always "may" match.
 *
 * Filter bytes (length L, stored in the block index of a chunk file):
 *   byte 0        k, bits set per token (1..9)
 *   bytes 1..L-1  W = (L - 1) / 8 words, little-endian u64; W is a power of
 *                 two
 * A token t with h = XXH3_64bits(t) lives in word (h mod 2^32) mod W, where
 * it sets the k bits (g >> (58 - 6 i)) & 63, i in [0, k), with
 * g = (h >> 32) * 0x9E3779B97F4A7C15 mod 2^64. Any other length or k means
 * "no filter": everything may match.
 *
 * Building: the builder starts with a filter large enough for the most
 * tokens the block's bytes can hold, counts the tokens that set a new bit
 * (about the distinct ones), then folds the filter in halves (OR of the two
 * halves: a token's word index mod W/2 is its index mod W, mod W/2) down to
 * the smallest power of two of at least 10 bits per distinct token (about
 * 1-2% false positives with k = 6), or to the byte budget. */
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "lib/mem.h"
#include "storage/chunk.h"
#include "storage/chunk_int.h"
#include "storage/codec.h"

#define MIN_TOKEN 3
#define FILTER_K 6
#define FILTER_MAX_K 9
#define BITS_PER_TOKEN 10
#define MIN_WORDS 64 /* start size when the builder was not told the bytes */

static const uint8_t tok_byte[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1,
    ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1,
    ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
    ['Y'] = 1, ['Z'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1,
    ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1,
    ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
    ['y'] = 1, ['z'] = 1,
    [0x80 ... 0xff] = 1,
};

/* ---- tokens */

#if defined(__SSE2__)
/* Bit j set when p[j] is a token byte, for 16 bytes. */
static inline uint64_t mask16(const uint8_t *p)
{
    __m128i c = _mm_loadu_si128((const __m128i *)(const void *)p);
    /* unsigned range checks through signed compares: x in [lo, hi] when
     * x + (0x80 - lo) < -128 + (hi - lo + 1) */
    __m128i d = _mm_add_epi8(c, _mm_set1_epi8((char)(0x80 - '0')));
    d = _mm_cmplt_epi8(d, _mm_set1_epi8((char)(-128 + 10)));
    __m128i l = _mm_add_epi8(_mm_or_si128(c, _mm_set1_epi8(0x20)),
                             _mm_set1_epi8((char)(0x80 - 'a')));
    l = _mm_cmplt_epi8(l, _mm_set1_epi8((char)(-128 + 26)));
    unsigned m = (unsigned)_mm_movemask_epi8(_mm_or_si128(d, l)) |
                 (unsigned)_mm_movemask_epi8(c); /* >= 0x80 */
    return m;
}
#endif

/* Bit j set when p[j] (j < n <= 64) is a token byte. */
static inline uint64_t token_mask(const uint8_t *p, size_t n)
{
    uint64_t m = 0;
    size_t j = 0;
#if defined(__SSE2__)
    for (; j + 16 <= n; j += 16)
        m |= mask16(p + j) << j;
#endif
    for (; j < n; j++)
        m |= (uint64_t)tok_byte[p[j]] << j;
    return m;
}

typedef void (*token_fn)(void *ctx, const uint8_t *tok, size_t len, size_t start, size_t end);

/* Calls fn for every maximal token of at least MIN_TOKEN bytes, in order,
 * with its position. Branches only at token boundaries found by bit
 * arithmetic, 64 bytes at a time. */
static inline void for_tokens(const uint8_t *p, size_t n, token_fn fn, void *ctx)
{
    size_t open = SIZE_MAX; /* start of the token running into this word */
    for (size_t base = 0; base < n; base += 64) {
        size_t m = n - base < 64 ? n - base : 64;
        uint64_t tok = token_mask(p + base, m);
        uint64_t prev = (tok << 1) | (open != SIZE_MAX); /* bit j: byte j-1 is a token byte */
        uint64_t starts = tok & ~prev;
        uint64_t ends = ~tok & prev; /* bit j: a token ends before byte j (j <= m) */
        for (;;) {
            if (open == SIZE_MAX) {
                if (!starts)
                    break;
                open = base + (size_t)__builtin_ctzll(starts);
                starts &= starts - 1;
            } else {
                if (!ends)
                    break;
                size_t end = base + (size_t)__builtin_ctzll(ends);
                ends &= ends - 1;
                if (end - open >= MIN_TOKEN)
                    fn(ctx, p + open, end - open, open, end);
                open = SIZE_MAX;
            }
        }
        /* m == 64: a token running past bit 63 continues in the next word */
    }
    if (open != SIZE_MAX && n - open >= MIN_TOKEN)
        fn(ctx, p + open, n - open, open, n);
}

/* ---- the filter */

static inline uint64_t token_hash(const uint8_t *p, size_t n)
{
    return XXH3_64bits(p, n);
}

static inline uint64_t token_bits(uint64_t h, unsigned k)
{
    uint64_t g = (h >> 32) * UINT64_C(0x9E3779B97F4A7C15), bits = 0;
    for (unsigned i = 0; i < k; i++)
        bits |= UINT64_C(1) << ((g >> (58 - 6 * i)) & 63);
    return bits;
}

static size_t pow2_at_least(size_t n)
{
    size_t p = 1;
    while (p < n)
        p *= 2;
    return p;
}

void chk_fbuild_begin(chk_fbuild *b, size_t line_bytes)
{
    /* a token takes at least MIN_TOKEN + 1 bytes (with its separator) */
    size_t max_tokens = line_bytes / (MIN_TOKEN + 1) + 1;
    size_t words = pow2_at_least((max_tokens * BITS_PER_TOKEN + 63) / 64);
    if (words < MIN_WORDS)
        words = MIN_WORDS;
    if (words > b->cap) {
        free(b->words);
        b->words = lk_malloc(words * sizeof(*b->words));
        b->cap = words;
    }
    memset(b->words, 0, words * sizeof(*b->words));
    memset(b->recent, 0, sizeof(b->recent));
    b->n_words = words;
    b->n = 0;
}

/* A token of 3..8 bytes as one word: its bytes little-endian, zero-padded
 * (tokens hold no zero byte, so the word identifies the token). p..end is
 * the line, which bounds the loads. */
static inline uint64_t short_token_word(const uint8_t *tok, size_t len, const uint8_t *p,
                                        const uint8_t *end)
{
    if (end - tok >= 8)
        return codec_get_le64(tok) & (~UINT64_C(0) >> (64 - 8 * len));
    if (tok + len - p >= 8)
        return codec_get_le64(tok + len - 8) >> (8 * (8 - len));
    uint64_t w = 0;
    for (size_t i = 0; i < len; i++)
        w |= (uint64_t)tok[i] << (8 * i);
    return w;
}

static void add_token(void *ctx, const uint8_t *tok, size_t len, size_t start, size_t end)
{
    (void)start;
    (void)end;
    chk_fbuild *b = ctx;
    uint64_t *slot = NULL, word = 0;
    if (len <= 8) {
        /* repeated short tokens (keys, levels, ...) skip the hashing */
        word = short_token_word(tok, len, b->line, b->line_end);
        slot = &b->recent[(word * UINT64_C(0x9E3779B97F4A7C15)) >> (64 - CHK_FBUILD_RECENT_BITS)];
        if (*slot == word)
            return;
    }
    uint64_t h = token_hash(tok, len);
    uint64_t bits = token_bits(h, FILTER_K);
    uint64_t *w = &b->words[(uint32_t)h & (b->n_words - 1)];
    if ((*w & bits) != bits) {
        *w |= bits;
        b->n++;
    }
    if (slot)
        *slot = word;
}

void chk_fbuild_add_line(chk_fbuild *b, lk_str line)
{
    if (!b->n_words)
        chk_fbuild_begin(b, MIN_WORDS * 64 / BITS_PER_TOKEN * (MIN_TOKEN + 1));
    if (!line.len)
        return;
    b->line = (const uint8_t *)line.p;
    b->line_end = b->line + line.len;
    for_tokens(b->line, line.len, add_token, b);
}

void chk_fbuild_finish(chk_fbuild *b, size_t max_bytes, lk_buf *out)
{
    if (!b->n_words)
        chk_fbuild_begin(b, 0);
    size_t want = pow2_at_least((b->n * BITS_PER_TOKEN + 63) / 64);
    size_t budget = max_bytes > 9 ? (max_bytes - 1) / 8 : 1;
    while (want > 1 && want > budget)
        want /= 2;
    size_t words = b->n_words;
    while (words > want) {
        size_t half = words / 2;
        for (size_t i = 0; i < half; i++)
            b->words[i] |= b->words[i + half];
        words = half;
    }
    out->len = 0;
    lk_buf_reserve(out, 1 + words * 8);
    uint8_t *f = (uint8_t *)out->p;
    f[0] = FILTER_K;
    for (size_t i = 0; i < words; i++)
        codec_put_le64(f + 1 + i * 8, b->words[i]);
    out->len = 1 + words * 8;
    out->p[out->len] = '\0';
    b->n_words = 0; /* the next block begins afresh */
    b->n = 0;
}

void chk_fbuild_free(chk_fbuild *b)
{
    free(b->words);
    memset(b, 0, sizeof(*b));
}

typedef struct check_ctx {
    const uint8_t *words;
    size_t n_words;
    unsigned k;
    size_t needle_len;
    bool absent;
} check_ctx;

static void check_token(void *ctx, const uint8_t *tok, size_t len, size_t start, size_t end)
{
    check_ctx *c = ctx;
    if (c->absent || start == 0 || end == c->needle_len)
        return; /* not an inner token: proves nothing */
    uint64_t h = token_hash(tok, len);
    uint64_t bits = token_bits(h, c->k);
    uint64_t w = codec_get_le64(c->words + ((uint32_t)h & (c->n_words - 1)) * 8);
    if ((w & bits) != bits)
        c->absent = true;
}

bool chk_filter_check(lk_str filter, lk_str needle)
{
    const uint8_t *f = (const uint8_t *)filter.p;
    if (needle.len == 0 || filter.len < 9 || (filter.len - 1) % 8 != 0)
        return true;
    size_t words = (filter.len - 1) / 8;
    if ((words & (words - 1)) != 0 || f[0] == 0 || f[0] > FILTER_MAX_K)
        return true;
    check_ctx c = { .words = f + 1, .n_words = words, .k = f[0], .needle_len = needle.len };
    for_tokens((const uint8_t *)needle.p, needle.len, check_token, &c);
    return !c.absent;
}
