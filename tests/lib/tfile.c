// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Test input files; see tfile.h. */
#include <criterion/criterion.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include "tfile.h"

void tfile_write(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "%s: %m", path);
	cr_assert_geq(fputs(text, f), 0, "%s: %m", path);
	cr_assert_eq(fclose(f), 0, "%s: %m", path);
}

void tfile_put(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX];

	cr_assert_lt((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name),
		     sizeof(path), "path too long: %s/%s", dir, name);
	tfile_write(path, text);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

int tfile_rm_tree(const char *path)
{
	return nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}
