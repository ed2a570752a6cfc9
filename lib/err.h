/* The one error convention: functions return int, 0 on success or a negative
 * LK_E* code; results go out through pointer parameters written only on
 * success. Human-readable detail, when there is any, goes to an lk_buf *err
 * parameter (which may be NULL). */
#ifndef LOKIC_LIB_ERR_H
#define LOKIC_LIB_ERR_H

enum {
    LK_OK = 0,
    LK_EINVAL = -1,       /* bad argument or input */
    LK_EPARSE = -2,       /* syntax error */
    LK_ECORRUPT = -3,     /* checksum or structure error in stored bytes */
    LK_EIO = -4,          /* a system call failed */
    LK_ENOTFOUND = -5,
    LK_ELIMIT = -6,       /* a configured limit was hit */
    LK_ERANGE = -7,       /* a value out of range */
    LK_EUNSUPPORTED = -8, /* valid input we do not implement */
    LK_ETOOLARGE = -9,    /* input bigger than allowed */
    LK_ERATE = -10,       /* rate limited */
};

const char *lk_strerror(int err);

#endif
