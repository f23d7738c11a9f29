// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * `colod restore [--state-dir DIR]`: after a crash (or kill -9) of the
 * agent, put back every original value the journal holds.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include "journal.h"
#include "log.h"

static void restore_usage(FILE *f)
{
	fprintf(f, "usage: colod restore [--state-dir DIR]\n"
		"  Restore every cgroup/resctrl value colod changed, from the\n"
		"  journal in DIR (default %s).\n", JOURNAL_STATE_DIR_DEFAULT);
}

int cmd_restore(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state-dir", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *dir = JOURNAL_STATE_DIR_DEFAULT;
	struct journal *j;
	int c, n, err;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			dir = optarg;
			break;
		case 'h':
			restore_usage(stdout);
			return 0;
		default:
			restore_usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		pr_err("restore: unexpected argument '%s'", argv[optind]);
		restore_usage(stderr);
		return 2;
	}
	j = journal_open(dir);
	if (!j) {
		pr_err("%s: cannot open journal: %s", dir, strerror(errno));
		return 1;
	}
	n = journal_count(j);
	err = journal_restore_all(j);
	if (err)
		pr_err("restore: %d of %d originals could not be restored; "
		       "they stay in %s/%s", journal_count(j), n, dir, JOURNAL_FILE);
	else
		pr_info("restore: %d originals restored", n);
	journal_close(j);
	return err ? 1 : 0;
}
