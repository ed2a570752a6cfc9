/* Stream identities and chunk-file CRCs (storage/chunkref.h). */
#include "storage/chunkref.h"

#include <xxhash.h>

#include "lib/labels.h"
#include "storage/codec.h"

#define SID_H2_SEED UINT64_C(0x6c6f6b6963736964) /* "lokicsid" */

uint64_t chk_sid_h2(lk_str canonical)
{
    return XXH3_64bits_withSeed(canonical.p ? canonical.p : "", canonical.len, SID_H2_SEED);
}

chk_sid chk_sid_of(lk_str canonical)
{
    return (chk_sid){ labels_hash(canonical), chk_sid_h2(canonical) };
}

uint32_t chk_file_crc(lk_str file)
{
    if (file.len < 4)
        return 0;
    return codec_get_le32((const uint8_t *)file.p + file.len - 4);
}
