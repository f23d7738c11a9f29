// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The recordings the kernel tests and benchmarks made (tests/fixtures/
 * recordings, see docs/RECORD.md) decided again without a kernel: a change
 * to decide, policy or headroom that changes a decision fails here, with
 * the first difference and its inputs printed.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "record.h"

#define RECORDINGS "tests/fixtures/recordings"

Test(replay, every_recording_in_the_fixtures_decides_the_same)
{
	struct dirent *de;
	char path[512];
	int n = 0;
	DIR *d = opendir(RECORDINGS);

	cr_assert_not_null(d, RECORDINGS " (run from the top of the tree)");
	while ((de = readdir(d))) {
		if (!strstr(de->d_name, ".jsonl"))
			continue;
		snprintf(path, sizeof(path), RECORDINGS "/%s", de->d_name);
		cr_expect_eq(replay_file(path, NULL, NULL, stderr), 0, "%s replays the same", path);
		n++;
	}
	closedir(d);
	cr_assert_gt(n, 0, "recordings in " RECORDINGS);
}

/* The same recording with one tick's BE quota changed: replay finds it. */
Test(replay, a_changed_decision_is_the_difference_reported)
{
	char path[512], tmp[] = "/tmp/colod-test-replay-XXXXXX", *line = NULL, *p;
	size_t cap = 0;
	bool done = false;
	FILE *in, *out, *msg;
	char *text = NULL;
	size_t len = 0;
	int fd, rc;

	snprintf(path, sizeof(path), RECORDINGS "/kernel-record-ls-be.jsonl");
	in = fopen(path, "r");
	cr_assert_not_null(in, "%s", path);
	fd = mkstemp(tmp);
	cr_assert_geq(fd, 0);
	out = fdopen(fd, "w");
	while (getline(&line, &cap, in) > 0) {
		/* the first knob of a tick: [cg,kind,value,...] -> value + 1 */
		p = strstr(line, "\"knobs\":[[");
		if (!done && strstr(line, "\"type\":\"tick\"") && p) {
			int cg, kind;
			long long v;
			char *rest;

			p += 10;
			cr_assert_eq(sscanf(p, "%d,%d,%lld", &cg, &kind, &v), 3);
			rest = strchr(strchr(strchr(p, ',') + 1, ',') + 1, ',');
			fprintf(out, "%.*s%d,%d,%lld%s", (int)(p - line), line, cg, kind, v + 1, rest);
			done = true;
			continue;
		}
		fputs(line, out);
	}
	free(line);
	fclose(in);
	fclose(out);
	msg = open_memstream(&text, &len);
	rc = replay_file(tmp, NULL, NULL, msg);
	fclose(msg);
	unlink(tmp);	/* before any assertion can end the test */
	cr_assert(done, "a tick with a knob in %s", path);
	cr_assert_eq(rc, 1);
	cr_assert(strstr(text, "the decision differs: knob 0") && strstr(text, "inputs (tick"),
		  "%s", text);
	free(text);
}
