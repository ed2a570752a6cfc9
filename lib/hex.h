/* Hexadecimal digits as Go reads them (strconv's and net/url's unhex):
 * 0-9, a-f and A-F. */
#ifndef LOKIC_LIB_HEX_H
#define LOKIC_LIB_HEX_H

#include <stdbool.h>

/* The value of the hex digit c, or -1 when c is not one. c may be any
 * int (a byte, a char or a rune). */
static inline int lk_hex_val(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static inline bool lk_is_hex(int c)
{
    return lk_hex_val(c) >= 0;
}

#endif
