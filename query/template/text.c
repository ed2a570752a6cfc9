/* Unicode helpers for the template engine with Go's semantics:
 * unicode.IsPrint, IsLetter/IsDigit and the simple case mappings of
 * unicode.ToUpper, ToLower and ToTitle (UTF-8 itself and unicode.IsSpace
 * are lib/utf8.h's). Case mapping and the letter/print classes come from
 * glibc's C.UTF-8 locale (towupper_l & co, thread-safe with a locale
 * object), corrected where Go's categories differ (spaces and format
 * characters are not printable, private use is not printable, the Georgian
 * and DŽ title cases). Without that locale, non-ASCII runes map to
 * themselves. */
#define _GNU_SOURCE
#include <locale.h>
#include <pthread.h>
#include <wctype.h>

#include "query/template/template_int.h"

static locale_t utf8_locale;
static pthread_once_t utf8_once = PTHREAD_ONCE_INIT;

static void utf8_init(void)
{
    utf8_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    if (!utf8_locale)
        utf8_locale = newlocale(LC_CTYPE_MASK, "C.utf8", (locale_t)0);
}

static locale_t loc(void)
{
    pthread_once(&utf8_once, utf8_init);
    return utf8_locale;
}

/* Unicode format characters (Cf) and space separators, which Go does not
 * print but glibc classifies as printable. */
static bool not_graphic(uint32_t r)
{
    static const uint32_t ranges[][2] = {
        { 0xA0, 0xA0 }, { 0xAD, 0xAD }, { 0x600, 0x605 }, { 0x61C, 0x61C },
        { 0x6DD, 0x6DD }, { 0x70F, 0x70F }, { 0x890, 0x891 }, { 0x8E2, 0x8E2 },
        { 0x1680, 0x1680 }, { 0x180E, 0x180E }, { 0x2000, 0x200F }, { 0x2028, 0x202F },
        { 0x205F, 0x2064 }, { 0x2066, 0x206F }, { 0x3000, 0x3000 }, { 0xE000, 0xF8FF },
        { 0xFEFF, 0xFEFF }, { 0xFFF9, 0xFFFB }, { 0x110BD, 0x110BD }, { 0x110CD, 0x110CD },
        { 0x13430, 0x1343F }, { 0x1BCA0, 0x1BCA3 }, { 0x1D173, 0x1D17A },
        { 0xE0001, 0xE0001 }, { 0xE0020, 0xE007F }, { 0xF0000, 0x10FFFF },
    };
    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++)
        if (r >= ranges[i][0] && r <= ranges[i][1])
            return true;
    return false;
}

bool tu_is_print(uint32_t r)
{
    if (r < 0x80)
        return r >= 0x20 && r < 0x7F;
    if (r < 0xA0 || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF) || r == 0xFFFD + 1)
        return false;
    if (r == 0xFFFD)
        return true;
    if (not_graphic(r))
        return false;
    locale_t l = loc();
    return l && iswprint_l((wint_t)r, l);
}

bool tu_is_letter_or_digit(uint32_t r)
{
    if (r < 0x80)
        return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9');
    if (r == 0xAA || r == 0xB5 || r == 0xBA)
        return true;
    if (r < 0xC0 || r == 0xD7 || r == 0xF7)
        return false;
    locale_t l = loc();
    return l && (iswalpha_l((wint_t)r, l) || iswdigit_l((wint_t)r, l));
}

uint32_t tu_to_upper(uint32_t r)
{
    if (r < 0x80)
        return r >= 'a' && r <= 'z' ? r - 32 : r;
    locale_t l = loc();
    return l ? (uint32_t)towupper_l((wint_t)r, l) : r;
}

uint32_t tu_to_lower(uint32_t r)
{
    if (r < 0x80)
        return r >= 'A' && r <= 'Z' ? r + 32 : r;
    locale_t l = loc();
    return l ? (uint32_t)towlower_l((wint_t)r, l) : r;
}

uint32_t tu_to_title(uint32_t r)
{
    if ((r >= 0x1C4 && r <= 0x1CC) || (r >= 0x1F1 && r <= 0x1F3)) {
        /* DŽ Dž dž, LJ Lj lj, NJ Nj nj, DZ Dz dz: the title form is the middle one */
        if (r <= 0x1C6)
            return 0x1C5;
        if (r <= 0x1C9)
            return 0x1C8;
        if (r <= 0x1CC)
            return 0x1CB;
        return 0x1F2;
    }
    if ((r >= 0x10D0 && r <= 0x10FA) || (r >= 0x10FD && r <= 0x10FF))
        return r; /* Georgian Mkhedruli has no title case */
    return tu_to_upper(r);
}
