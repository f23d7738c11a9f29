// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `colod check-config PATH` and `colod config [PATH]`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"

static const char *const key_names[CFG_NR_KEYS] = {
	CONFIG_KEY_COLOCATION, CONFIG_KEY_THRESHOLD, CONFIG_KEY_QOS, CONFIG_KEY_COLOD,
};

struct config_args {
	const char *path;
	const char *labels;
};

/* argv[0] is the subcommand; PATH and --node-labels FILE|K=V[,K=V] follow. */
static int parse_args(int argc, char **argv, struct config_args *a, bool need_path)
{
	int i;

	memset(a, 0, sizeof(*a));
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--node-labels") && i + 1 < argc)
			a->labels = argv[++i];
		else if (!strncmp(argv[i], "--node-labels=", 14))
			a->labels = argv[i] + 14;
		else if (argv[i][0] != '-' && !a->path)
			a->path = argv[i];
		else
			goto usage;
	}
	if (need_path && !a->path)
		goto usage;
	return 0;
usage:
	fprintf(stderr, "usage: colod %s %sPATH [--node-labels FILE|KEY=VALUE[,KEY=VALUE]]\n"
		"  PATH: a ConfigMap directory (one file per key) or one JSON file\n",
		argc > 0 ? argv[0] : "config", need_path ? "" : "[");
	return -EINVAL;
}

/* Load per the arguments; prints every message. 0, or 1 when invalid. */
static int load(const struct config_args *a, struct colod_config *c)
{
	struct node_labels labels = { 0 };
	struct config_errors *errs;
	int err;

	if (a->labels) {
		err = node_labels_parse(a->labels, &labels);
		if (err) {
			fprintf(stderr, "error: --node-labels %s: %s\n", a->labels, strerror(-err));
			return 1;
		}
	}
	config_defaults(c);
	if (!a->path)
		return 0;
	errs = malloc(sizeof(*errs));
	if (!errs)
		return 1;
	config_errors_init(errs);
	err = config_load(a->path, &labels, c, errs);
	config_errors_print(errs, stderr);
	free(errs);
	return err ? 1 : 0;
}

int cmd_check_config(int argc, char **argv)
{
	struct config_args a;
	struct colod_config *c;
	int rc;

	if (parse_args(argc, argv, &a, true))
		return 2;
	c = malloc(sizeof(*c));
	if (!c)
		return 1;
	rc = load(&a, c);
	if (rc == 0)
		printf("%s: valid\n", a.path);
	else
		fprintf(stderr, "%s: invalid\n", a.path);
	free(c);
	return rc;
}

int cmd_config(int argc, char **argv)
{
	struct config_args a;
	struct colod_config *c;
	char *json;
	int rc, i;

	if (parse_args(argc, argv, &a, false))
		return 2;
	c = malloc(sizeof(*c));
	if (!c)
		return 1;
	rc = load(&a, c);
	if (rc)
		goto out;
	for (i = 0; i < CFG_NR_KEYS; i++)
		if (c->node_strategy[i][0])
			fprintf(stderr, "info: %s: node strategy \"%s\" applies\n", key_names[i],
				c->node_strategy[i]);
	json = config_to_json(c);
	if (!json) {
		rc = 1;
		goto out;
	}
	printf("%s\n", json);
	free(json);
out:
	free(c);
	return rc;
}
