/* Surviving memory faults inside a library that reads a mapped file.
 *
 * LMDB trusts its pages: a corrupt page can make it read past the end of
 * the file (SIGBUS) or of the map (SIGSEGV). A read run under the guard
 * (fg_run) comes back with `false` instead of killing the process; a fault
 * anywhere else goes to the handler installed before (the default one, or
 * a sanitizer's), exactly as without the guard. Only for code that holds
 * no lock and leaves nothing half-done when it is abandoned, such as an
 * LMDB read in a read-only transaction. */
#ifndef LOKIC_STORAGE_FAULTGUARD_H
#define LOKIC_STORAGE_FAULTGUARD_H

#include <stdbool.h>

/* Installs the SIGBUS and SIGSEGV handlers (once; later calls do nothing). */
void fg_install(void);

/* Runs fn(arg); false when it faulted (it was abandoned at the fault). */
bool fg_run(void (*fn)(void *), void *arg);

#endif
