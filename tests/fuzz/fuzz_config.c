// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer target for the configuration parser. The first byte picks what
 * the rest is parsed as: one of the four ConfigMap keys, a single-file
 * document, or a --node-labels file. Every accepted configuration must
 * print as JSON that parses back to the very same configuration.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"

static const char *const keys[] = {
	CONFIG_KEY_COLOCATION, CONFIG_KEY_THRESHOLD, CONFIG_KEY_QOS, CONFIG_KEY_COLOD,
};

static void check_round_trip(const struct colod_config *c)
{
	struct colod_config *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	struct config_errors *e = malloc(sizeof(*e));
	char *json = config_to_json(c);

	if (!a || !b || !e || !json)
		abort();
	*a = *c;
	memset(a->node_strategy, 0, sizeof(a->node_strategy));
	config_errors_init(e);
	if (config_parse_document(json, "printed", NULL, b, e) != 0) {
		config_errors_print(e, stderr);
		fprintf(stderr, "%s\n", json);
		abort();
	}
	if (memcmp(a, b, sizeof(*a))) {
		fprintf(stderr, "round trip changed the configuration:\n%s\n", json);
		abort();
	}
	free(json);
	free(e);
	free(b);
	free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct colod_config *c;
	struct config_errors *e;
	struct node_labels *l;
	char *text;
	int mode, rc;

	if (size < 1)
		return 0;
	mode = data[0] % 6;
	text = malloc(size);
	c = malloc(sizeof(*c));
	e = malloc(sizeof(*e));
	l = malloc(sizeof(*l));
	if (!text || !c || !e || !l)
		abort();
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	if (node_labels_parse_text("pool=gpu,size=xl,colod.io/demo=true", ',', l))
		abort();
	config_defaults(c);
	config_errors_init(e);
	if (mode < 4)
		rc = config_parse_key(keys[mode], text, "fuzz", l, c, e);
	else if (mode == 4)
		rc = config_parse_document(text, "fuzz", l, c, e);
	else
		rc = node_labels_parse_text(text, '\n', l) ? 1 : 0;
	if (rc == 0 && mode < 5)
		check_round_trip(c);
	if (rc == 0 && e->nr_errors)
		abort();	/* success with errors listed is a lie */
	free(l);
	free(e);
	free(c);
	free(text);
	return 0;
}
