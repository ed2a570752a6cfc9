/* The fault guard (storage/faultguard.h): a thread-local jump buffer set
 * while a guarded function runs, and SIGBUS/SIGSEGV handlers that jump
 * back to it. The handlers are installed with SA_NODEFER, so jumping out
 * of one leaves the signal unblocked without saving the signal mask on
 * every guarded call. */
#define _GNU_SOURCE
#include "storage/faultguard.h"

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>

static __thread sigjmp_buf *volatile guard;
static struct sigaction prev_bus, prev_segv;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void on_fault(int sig, siginfo_t *si, void *uc)
{
    sigjmp_buf *jb = guard;
    if (jb) {
        guard = NULL;
        siglongjmp(*jb, 1);
    }
    const struct sigaction *prev = sig == SIGBUS ? &prev_bus : &prev_segv;
    if (prev->sa_flags & SA_SIGINFO) {
        prev->sa_sigaction(sig, si, uc);
        return;
    }
    if (prev->sa_handler != SIG_DFL && prev->sa_handler != SIG_IGN) {
        prev->sa_handler(sig);
        return;
    }
    /* the default action: returning re-runs the faulting instruction */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigaction(sig, &dfl, NULL);
}

static void install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, &prev_bus);
    sigaction(SIGSEGV, &sa, &prev_segv);
}

void fg_install(void)
{
    pthread_once(&once, install);
}

bool fg_run(void (*fn)(void *), void *arg)
{
    sigjmp_buf jb;
    sigjmp_buf *volatile outer = guard;
    if (sigsetjmp(jb, 0)) {
        guard = outer;
        return false;
    }
    guard = &jb;
    fn(arg);
    guard = outer;
    return true;
}
