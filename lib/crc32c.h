/* CRC-32C (Castagnoli), hardware-accelerated on x86-64 with SSE4.2 when the
 * CPU has it, table-driven otherwise. */
#ifndef LOKIC_LIB_CRC32C_H
#define LOKIC_LIB_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* crc32c(0, p, n) for a fresh checksum; chain by passing the previous value. */
uint32_t lk_crc32c(uint32_t crc, const void *p, size_t n);

#endif
