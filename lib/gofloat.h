/* Go's float64 formatting: strconv.FormatFloat / AppendFloat with bitSize
 * 64. Precision -1 gives the shortest decimal that reads back as the value
 * ('g': 1e+21, 1e-07, 0.1, 1.23456789e+08; 'f': 123456789), as Go's
 * %v, JSON-free Prometheus text and Loki's sample values print numbers. */
#ifndef LOKIC_LIB_GOFLOAT_H
#define LOKIC_LIB_GOFLOAT_H

#include "lib/str.h"

/* Room for the digits of lk_gofloat_shortest (17 and a NUL). */
#define LK_GOFLOAT_DIGITS 32

/* The shortest decimal digits of |v| (v finite) that read back as v, with
 * the digit closest to v when several of that length do: returns their
 * count nd (0 for zero), without leading or trailing zeros, NUL-terminated,
 * and the decimal point position: |v| = 0.d1d2...dnd x 10^dp. */
int lk_gofloat_shortest(double v, char *digits, int *dp);

/* strconv.AppendFloat(b, v, fmt, prec, 64): fmt 'e', 'E', 'f', 'g', 'G',
 * 'b', 'x' or 'X'; prec -1 is the shortest precision. NaN, +Inf, -Inf;
 * negative zero keeps its sign ("-0"). */
void lk_gofloat_append(lk_buf *b, double v, char fmt, int prec);

#endif
