/* UTF-8 as Go's unicode/utf8 reads and writes it: DecodeRune (an invalid,
 * truncated, overlong or surrogate sequence is U+FFFD of width 1),
 * DecodeLastRune, EncodeRune, Valid and RuneCount; and unicode.IsSpace with
 * strings.TrimSpace. */
#ifndef LOKIC_LIB_UTF8_H
#define LOKIC_LIB_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/str.h"

#define LK_RUNE_ERROR 0xFFFDu
#define LK_UTF8_MAX 4

/* utf8.DecodeRune: the rune at p (n bytes there) into *r, returns its
 * width; U+FFFD of width 1 for an invalid sequence, of width 0 when n is 0. */
size_t lk_utf8_decode(const void *p, size_t n, uint32_t *r);
/* utf8.DecodeLastRune: the rune that ends at p + n, returns its width. */
size_t lk_utf8_decode_last(const void *p, size_t n, uint32_t *r);
/* The width of the valid sequence at p (n bytes there), 0 when the bytes
 * there are not one (what DecodeRune reads as an error) or n is 0. */
size_t lk_utf8_valid_len(const void *p, size_t n);
/* utf8.EncodeRune: writes 1 to 4 bytes at o and returns how many; a
 * surrogate or a value above U+10FFFF is written as U+FFFD. */
size_t lk_utf8_encode(char *o, uint32_t r);
/* lk_utf8_encode appended to b. */
void lk_utf8_put(lk_buf *b, uint32_t r);
/* utf8.ValidString. */
bool lk_utf8_valid(lk_str s);
/* The length of the longest valid UTF-8 prefix of s. */
size_t lk_utf8_valid_prefix(lk_str s);
/* utf8.RuneCountInString: each invalid byte counts as one rune. */
size_t lk_utf8_count(lk_str s);
/* unicode.IsSpace: the ASCII and Latin-1 spaces and White_Space. */
bool lk_unicode_is_space(uint32_t r);
/* strings.TrimSpace: s without the unicode.IsSpace runes at either end. */
lk_str lk_unicode_trim_space(lk_str s);

#endif
