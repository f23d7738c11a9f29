/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Writing test inputs (ConfigMap keys, fake kernel files) into a temp
 * directory; the test fails at once if the file cannot be written. And
 * removing the temp directory again.
 */
#ifndef COLOD_TESTS_TFILE_H
#define COLOD_TESTS_TFILE_H

/* Write text to path (created or truncated). */
void tfile_write(const char *path, const char *text);
/* Write text to <dir>/<name>; name may hold existing subdirectories. */
void tfile_put(const char *dir, const char *name, const char *text);
/* Remove path and everything below it, links not followed: nftw()'s result (0 or -1). */
int tfile_rm_tree(const char *path);

#endif /* COLOD_TESTS_TFILE_H */
