/* The entry point every libFuzzer driver (fuzz_*.c) defines, declared once
 * for the drivers and for replay_main.c, which calls it on the seeds. */
#ifndef LOKIC_TESTS_FUZZ_FUZZ_H
#define LOKIC_TESTS_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* One input; returns 0 (libFuzzer's convention). A finding aborts. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
