/* Names for the LK_E* error codes. */
#include "lib/err.h"

const char *lk_strerror(int err)
{
    switch (err) {
    case LK_OK: return "success";
    case LK_EINVAL: return "invalid argument";
    case LK_EPARSE: return "parse error";
    case LK_ECORRUPT: return "corrupt data";
    case LK_EIO: return "I/O error";
    case LK_ENOTFOUND: return "not found";
    case LK_ELIMIT: return "limit exceeded";
    case LK_ERANGE: return "value out of range";
    case LK_EUNSUPPORTED: return "not supported";
    case LK_ETOOLARGE: return "too large";
    case LK_ERATE: return "rate limited";
    }
    return "unknown error";
}
