/* Functions the chunk codec files share with each other (head.c, block.c,
 * filter.c, chunk.c, chunkfile.c) and nobody else. Private to storage/. */
#ifndef LOKIC_STORAGE_CHUNK_INT_H
#define LOKIC_STORAGE_CHUNK_INT_H

#include <stddef.h>
#include <stdint.h>

#include "lib/str.h"
#include "storage/chunk.h"

/* head.c: entries [lo, hi) encoded as a block payload (block.c), the first
 * entry's delta taken from its own timestamp; raw is replaced. */
void chk_head_encode_range(const chk_head *h, size_t lo, size_t hi, lk_buf *raw);
/* head.c: the line of entry i (in timestamp order). */
lk_str chk_head_line(const chk_head *h, size_t i);
/* head.c: entry i (in timestamp order): its timestamp, line and encoded
 * metadata (empty when it has none), pointing into the head. */
void chk_head_entry(const chk_head *h, size_t i, int64_t *ts, lk_str *line, lk_str *meta_enc);
/* head.c: bytes held in the arena (lines and encoded metadata), which can
 * exceed chk_head_bytes when entries carry many empty metadata pairs. */
size_t chk_head_arena_len(const chk_head *h);

/* block.c: parses d->raw[0, d->raw_len) as a block payload of `entries`
 * entries spanning exactly [mint, maxt] into d. LK_ECORRUPT otherwise. */
int chk_parse_payload(chk_decoded *d, uint32_t entries, int64_t mint, int64_t maxt, lk_buf *err);

/* block.c: empties d, says "corrupt block: why" in err (may be NULL) and
 * returns LK_ECORRUPT: how every block decoder gives up. */
int chk_block_corrupt(chk_decoded *d, lk_buf *err, const char *why);

/* columns.c: the column payload (format 2, byte layout in columns.c) of
 * the head's entries, each column compressed with codec (or stored when
 * that does not shrink it), replacing out; fills info's raw_len,
 * comp_len, line_bytes and meta_bytes. */
void chk_cols_encode(const chk_head *h, int codec, lk_buf *out, chk_block_info *info);
/* columns.c: decodes the columns of a format 2 payload (its CRC already
 * checked) that cols asks for (CHK_COL_*; timestamps always) into d.
 * LK_ECORRUPT with the reason in *err otherwise. */
int chk_cols_decode(const chk_block_info *in, const uint8_t *p, unsigned cols, chk_decoded *d,
                    lk_buf *err);

/* block.c: bytes a decoded file's blocks share, released with the last
 * reference. */
typedef struct chk_backing chk_backing;
chk_backing *chk_backing_new(const void *p, size_t n, chk_release_fn release, void *ctx);
void chk_backing_ref(chk_backing *bk);
void chk_backing_unref(chk_backing *bk);

/* block.c: a block over borrowed bytes (comp and filter inside bk's bytes);
 * takes one reference of bk. The payload is not checked here. */
chk_block *chk_block_wrap(const chk_block_info *info, const uint8_t *comp, const uint8_t *filter,
                          uint32_t filter_len, chk_backing *bk);

/* chunk.c: a closed, empty chunk to add decoded blocks to; adding takes
 * over the caller's reference of b. */
chk_chunk *chk_chunk_new_closed(void);
void chk_chunk_add_block(chk_chunk *c, chk_block *b);

/* filter.c: building a token filter from the lines of a block. */
#define CHK_FBUILD_RECENT_BITS 8
typedef struct chk_fbuild {
    uint64_t *words; /* the filter being built (format in filter.c) */
    size_t cap, n_words;
    size_t n;        /* tokens that set a new bit: about the distinct ones */
    /* short tokens already added, by content: a direct-mapped cache */
    uint64_t recent[1 << CHK_FBUILD_RECENT_BITS];
    const uint8_t *line, *line_end; /* the line being tokenized */
} chk_fbuild;

/* Starts a filter for lines of line_bytes bytes in all (add_line starts a
 * small one by itself when this was not called). */
void chk_fbuild_begin(chk_fbuild *b, size_t line_bytes);
void chk_fbuild_add_line(chk_fbuild *b, lk_str line);
/* Writes the filter into out (replaced), at most max_bytes long when that
 * is at least 9 (a smaller filter answers "may contain" more often, never
 * wrongly "absent"). The builder can then begin the next one. */
void chk_fbuild_finish(chk_fbuild *b, size_t max_bytes, lk_buf *out);
void chk_fbuild_free(chk_fbuild *b);

#endif
