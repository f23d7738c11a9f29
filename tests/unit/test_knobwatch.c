// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* What knobwatch reports of writes, removals and quiet files (on tmpfs). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "knobwatch.h"
#include "tfile.h"

static char dir[] = "/tmp/colod-test-knobwatch-XXXXXX";
static char a[300], b[300];
static struct knobwatch *w;

static void setup(void)
{
	cr_assert_not_null(mkdtemp(dir));
	snprintf(a, sizeof(a), "%s/cpu.idle", dir);
	snprintf(b, sizeof(b), "%s/cpu.max", dir);
	tfile_write(a, "1\n");
	tfile_write(b, "max 100000\n");
	w = knobwatch_new();
	cr_assert_not_null(w, "inotify");
}

static void teardown(void)
{
	knobwatch_free(w);
	tfile_rm_tree(dir);
}

TestSuite(knobwatch, .init = setup, .fini = teardown);

Test(knobwatch, a_write_marks_its_file_only)
{
	int wa = knobwatch_add(w, a), wb = knobwatch_add(w, b);

	cr_assert_geq(wa, 0);
	cr_assert_geq(wb, 0);
	cr_assert_eq(knobwatch_drain(w), 0, "nothing written yet");
	cr_assert_eq(knobwatch_state(w, wa), KW_QUIET);
	tfile_write(a, "0\n");
	tfile_write(a, "1\n");
	cr_assert_eq(knobwatch_drain(w), 1, "two writes of one file are one entry");
	cr_assert_eq(knobwatch_state(w, wa), KW_WRITTEN);
	cr_assert_eq(knobwatch_state(w, wb), KW_QUIET);
	cr_assert_eq(knobwatch_drain(w), 0, "a drain forgets what it reported");
	cr_assert_eq(knobwatch_state(w, wa), KW_QUIET);
}

Test(knobwatch, a_removed_file_loses_its_watch)
{
	int wa = knobwatch_add(w, a);

	cr_assert_eq(unlink(a), 0);
	cr_assert_eq(knobwatch_drain(w), 1);
	cr_assert_eq(knobwatch_state(w, wa), KW_GONE);
}

Test(knobwatch, a_missing_file_cannot_be_watched)
{
	char c[320];

	snprintf(c, sizeof(c), "%s/nope", dir);
	cr_assert_lt(knobwatch_add(w, c), 0);
	cr_assert_lt(knobwatch_add(NULL, a), 0, "no inotify: no watch");
	cr_assert_eq(knobwatch_state(NULL, 1), KW_QUIET);
}
