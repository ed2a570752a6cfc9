/* The decoder the ingester replays whole push requests with (WAL records
 * of type 2, storage/walrec.c): the same decoding and label normalisation
 * as the push handler, without the limits (they were checked when the
 * request was accepted). */
#ifndef LOKIC_API_PUSH_REPLAY_H
#define LOKIC_API_PUSH_REPLAY_H

#include "storage/ingester.h"

extern const ing_push_decoder push_wal_decoder;

#endif
