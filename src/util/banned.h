/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * banned.h - functions we do not use, after git's banned.h.  util.h
 * includes the C library headers that declare them and then this file, so
 * every .c file (which includes util.h) fails to compile on a use.
 */
#ifndef OIMAP_BANNED_H
#define OIMAP_BANNED_H

#define BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) BANNED(strncat)
#undef strtok
#define strtok(x, y) BANNED(strtok)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef atoi
#define atoi(x) BANNED(atoi)
#undef atol
#define atol(x) BANNED(atol)
#undef qsort
#define qsort(...) BANNED(qsort)
#undef gets
#define gets(x) BANNED(gets)

#endif
