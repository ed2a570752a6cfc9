/* The chunk codec: how a stream's entries are held and stored.
 *
 *   head    uncompressed entries, sorted by timestamp (stable: equal
 *           timestamps in arrival order), deduplicated; small (it is cut
 *           into a block at chunk_block_size). storage/head.c
 *   block   immutable, reference-counted, compressed run of entries with
 *           its time range, counts, byte sums, CRC32C and a token filter;
 *           timestamps, line lengths, lines and metadata are compressed
 *           column by column, so a reader decodes only the columns it
 *           needs. storage/block.c (blocks), storage/columns.c (payload
 *           format), storage/compress.h (codecs), storage/filter.c (filter)
 *   chunk   blocks in arrival order plus a head; closed chunks have no head.
 *           storage/chunk.c
 *   file    a closed chunk serialised with its stream's labels, so a chunk
 *           file is self-describing. storage/chunkfile.c (byte layout)
 *
 * Decoded entries (a block decoded, or a copy of part of a head) come out as
 * a chk_decoded: an array of lk_entry pointing into one byte buffer.
 *
 * Thread safety: a head and a chunk are not thread-safe (the ingester holds a
 * stream lock); a block is immutable and may be read from any thread once
 * built; chk_block_ref/unref are atomic. */
#ifndef LOKIC_STORAGE_CHUNK_H
#define LOKIC_STORAGE_CHUNK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/str.h"
#include "storage/iter.h"

/* Largest entry (line plus metadata names and values) a head accepts. */
#define CHK_MAX_ENTRY_BYTES (256u << 20)
/* Largest chunk_block_size honoured (bigger values are clamped). */
#define CHK_MAX_BLOCK_SIZE (256 << 20)
/* A head is also cut when it holds this many entries (empty lines add no
 * bytes, so the byte size alone would never cut it). */
#define CHK_HEAD_MAX_ENTRIES 65536
/* Largest uncompressed block a decoder accepts. */
#define CHK_MAX_RAW (1u << 30)

/* ---- decoded entries */

typedef struct chk_decoded {
    lk_entry *e;          /* sorted by ts */
    size_t n, e_cap;
    lk_label *meta;       /* the metadata pairs of all entries, in order */
    size_t n_meta, meta_cap;
    char *raw;            /* bytes e[].line and meta[] point into */
    size_t raw_len, raw_cap;
    int64_t bytes;        /* line + metadata name/value bytes of all entries */
    size_t *sets;         /* scratch of the metadata dictionary (columns.c) */
    size_t sets_cap;
} chk_decoded;

/* A zeroed chk_decoded is empty; buffers are reused by the next decode. */
void chk_decoded_free(chk_decoded *d);
/* Index of the first entry with ts >= t (n when none). */
size_t chk_decoded_lower_bound(const chk_decoded *d, int64_t t);

/* ---- head */

typedef struct chk_head chk_head;

chk_head *chk_head_new(void);
void chk_head_free(chk_head *h); /* accepts NULL */
/* Forgets the entries, keeps the buffers for reuse. */
void chk_head_reset(chk_head *h);
/* Frees the buffers of an empty head (an idle stream's head was cut). */
void chk_head_shrink(chk_head *h);

/* Inserts e in timestamp order after any entries with the same timestamp
 * (the bytes are copied). Returns 1 when stored, 0 when an entry with the
 * same timestamp, line and metadata is already present (nothing stored),
 * LK_ETOOLARGE when the entry exceeds CHK_MAX_ENTRY_BYTES. */
int chk_head_append(chk_head *h, const lk_entry *e);

size_t chk_head_len(const chk_head *h);
/* Line plus metadata name/value bytes held. */
int64_t chk_head_bytes(const chk_head *h);
/* Time range; meaningless when empty. */
int64_t chk_head_mint(const chk_head *h);
int64_t chk_head_maxt(const chk_head *h);

/* The entry last stored or matched as a duplicate by chk_head_append: its
 * timestamp, line and encoded metadata (storage/codec.h), pointing into the
 * head (valid until the next change). false when there is none. */
bool chk_head_last(const chk_head *h, int64_t *ts, lk_str *line, lk_str *meta_enc);

/* Copies the entries with from <= ts <= through into d (replacing what it
 * held); d then owns its bytes and does not depend on the head. */
void chk_head_snapshot(const chk_head *h, int64_t from, int64_t through, chk_decoded *d);

/* ---- block */

typedef struct chk_block chk_block;

/* Block payload formats: 1, entries interleaved in one snappy stream
 * (chunk files of version 1, block.c); 2, columns (columns.c). */
#define CHK_FORMAT_V1 1
#define CHK_FORMAT_COLS 2

typedef struct chk_block_info {
    int64_t mint, maxt;   /* first and last entry timestamp */
    uint32_t entries;
    uint32_t raw_len;     /* uncompressed payload bytes */
    uint32_t comp_len;    /* compressed payload bytes */
    uint32_t crc;         /* CRC32C of the compressed payload */
    int64_t line_bytes;   /* sum of the line lengths; -1: unknown (format 1) */
    int64_t meta_bytes;   /* sum of metadata name and value lengths; -1: unknown */
    uint32_t format;      /* CHK_FORMAT_* */
} chk_block_info;

/* Compresses a non-empty head into a new block (refcount 1), format 2 with
 * the default codec (CHK_CODEC_DEFAULT, storage/compress.h); builds its
 * token filter. LK_EINVAL when the head is empty. */
int chk_block_from_head(const chk_head *h, chk_block **out);
/* The same with the codec named (a chk_codec). */
int chk_block_from_head_codec(const chk_head *h, int codec, chk_block **out);
chk_block *chk_block_ref(chk_block *b);
void chk_block_unref(chk_block *b); /* accepts NULL */

const chk_block_info *chk_block_get_info(const chk_block *b);
lk_str chk_block_payload(const chk_block *b); /* compressed bytes */
lk_str chk_block_filter(const chk_block *b);  /* token filter bytes (filter.c) */
/* Does the payload still match its CRC? */
bool chk_block_crc_ok(const chk_block *b);
/* true the first time it is called on a block, false after: for warning
 * once about a corrupt block. */
bool chk_block_first_warning(chk_block *b);

/* Decodes the block into d (reusing d's buffers). Verifies the CRC, the
 * snappy stream, every length, the entry count, that timestamps are sorted
 * and inside [mint, maxt]: LK_ECORRUPT with the reason in *err otherwise,
 * d then holds no entries. Never reads outside the payload. */
int chk_block_decode(const chk_block *b, chk_decoded *d, lk_buf *err);

/* Columns a reader needs (chk_block_decode_cols). Timestamps are always
 * decoded. Without CHK_COL_LINE a decoded entry's line has p NULL and len
 * its length (with CHK_COL_LEN) or 0; without CHK_COL_META it has no
 * metadata. d->bytes is the block's line and metadata bytes either way. */
#define CHK_COL_LEN 1u
#define CHK_COL_LINE 2u /* implies CHK_COL_LEN */
#define CHK_COL_META 4u
#define CHK_COL_ALL (CHK_COL_LEN | CHK_COL_LINE | CHK_COL_META)

/* chk_block_decode reading only the columns cols names (a format 1 block
 * is decoded whole). The checks are those of the columns read. */
int chk_block_decode_cols(const chk_block *b, unsigned cols, chk_decoded *d, lk_buf *err);

/* The token filter: may the block hold a line containing needle (a literal,
 * case-sensitive substring, as LogQL's |=)? Never false when some line of
 * the block contains needle; false only when one of needle's complete inner
 * tokens is certainly absent. */
bool chk_filter_may_contain(const chk_block *b, lk_str needle);
/* The same test on raw filter bytes (an empty filter answers true). */
bool chk_filter_check(lk_str filter, lk_str needle);

/* ---- chunk */

typedef struct chk_chunk chk_chunk;

typedef struct chk_limits {
    int64_t block_size;   /* head bytes that cut a block */
    int64_t target_size;  /* compressed bytes that close a chunk; 0: 10 blocks */
    int64_t max_age_ns;   /* time span that closes a chunk */
    int codec;            /* of new chunks' blocks (storage/compress.h; 0: none) */
} chk_limits;

chk_chunk *chk_chunk_new(void);
/* The codec of the blocks cut from now on (a chk_codec; default
 * CHK_CODEC_DEFAULT). */
void chk_chunk_set_codec(chk_chunk *c, int codec);
void chk_chunk_free(chk_chunk *c); /* accepts NULL; releases its block refs */

/* Appends to the head (chk_head_append's results). LK_EINVAL when closed. */
int chk_chunk_append(chk_chunk *c, const lk_entry *e);
/* Must the head be cut into a block now: bytes >= block_size,
 * CHK_HEAD_MAX_ENTRIES entries, or (entries with many empty metadata pairs)
 * its encoded size reached twice block_size? */
bool chk_chunk_head_full(const chk_chunk *c, const chk_limits *l);
/* Compresses the head into a new block (nothing when the head is empty). */
void chk_chunk_cut_block(chk_chunk *c);
/* Frees the buffers of an empty head (after a cut of an idle stream's head). */
void chk_chunk_shrink_head(chk_chunk *c);
/* Must the chunk be closed before an entry at ts is appended: its compressed
 * size reached target_size (or 10 blocks), or its time span including ts
 * would reach max_age_ns? false for an empty chunk. */
bool chk_chunk_full(const chk_chunk *c, const chk_limits *l, int64_t ts);
/* Cuts the head into a last block and closes the chunk (no more appends). */
void chk_chunk_close(chk_chunk *c);

bool chk_chunk_closed(const chk_chunk *c);
bool chk_chunk_empty(const chk_chunk *c);
size_t chk_chunk_nblocks(const chk_chunk *c);
chk_block *chk_chunk_block(const chk_chunk *c, size_t i);
const chk_head *chk_chunk_head(const chk_chunk *c); /* NULL once closed */
/* Time range of blocks and head; meaningless when empty. */
int64_t chk_chunk_mint(const chk_chunk *c);
int64_t chk_chunk_maxt(const chk_chunk *c);
size_t chk_chunk_entries(const chk_chunk *c);        /* blocks + head */
int64_t chk_chunk_comp_bytes(const chk_chunk *c);    /* compressed payloads */
int64_t chk_chunk_raw_bytes(const chk_chunk *c);     /* uncompressed blocks + head */
/* The uncompressed size as Loki counts it (storage/usize.h) for a chunk
 * appended to since it was created; else chk_chunk_raw_bytes. */
int64_t chk_chunk_loki_bytes(const chk_chunk *c);

/* ---- chunk file (byte layout at the top of storage/chunkfile.c) */

/* Serialises a closed, non-empty chunk of the stream `canonical` (fp its
 * fingerprint), appending to out. LK_EINVAL when c is open or empty. */
int chk_file_encode(const chk_chunk *c, lk_str canonical, uint64_t fp, lk_buf *out);

/* Called when the last block of a decoded file lets go of the bytes. */
typedef void (*chk_release_fn)(void *ctx, const void *p, size_t n);

/* Parses a chunk file. Checks magic, version, encoding, the footer CRC
 * (which covers header, block index and footer) and the consistency of the
 * index; LK_ECORRUPT (LK_EUNSUPPORTED for an unknown version or encoding)
 * with the reason in *err when any fails. Block payloads are not read here:
 * each block's CRC is checked when it is decoded (or by
 * chk_chunk_check_blocks), so a bad block does not hide the good ones.
 * With release NULL the bytes are copied; otherwise the blocks borrow p, and
 * release(ctx, p, n) is called once nothing uses them (on failure the
 * caller keeps p). On success *out is a closed chunk, and canonical (may be
 * NULL) receives the stream's labels, *fp (may be NULL) its fingerprint. */
int chk_file_decode(const void *p, size_t n, chk_release_fn release, void *ctx,
                    chk_chunk **out, lk_buf *canonical, uint64_t *fp, lk_buf *err);

/* What a chunk file's header says, for indexing it without decoding it. */
typedef struct chk_file_info {
    uint64_t fp;
    int64_t mint, maxt;
    uint32_t entries;
    uint32_t crc;          /* the footer CRC (chk_file_crc) */
    lk_str canonical;      /* the stream's labels, into the file's bytes */
} chk_file_info;

/* The header of a valid chunk file: the checks of chk_file_decode (header,
 * block index and footer; the payloads are not read), with its errors. */
int chk_file_info_get(const void *p, size_t n, chk_file_info *out, lk_buf *err);
/* The header of a file that fails those checks, read as far as it can be:
 * the magic and the labels' bounds only, so every field may be wrong (the
 * caller checks the labels against what else it knows). LK_ECORRUPT when
 * not even that much is there. */
int chk_file_info_peek(const void *p, size_t n, chk_file_info *out);

/* Verifies every block's CRC. LK_ECORRUPT naming each bad block
 * ("block 2 of 5: checksum mismatch") in *err; *n_bad (may be NULL) counts
 * them. */
int chk_chunk_check_blocks(const chk_chunk *c, size_t *n_bad, lk_buf *err);

#endif
