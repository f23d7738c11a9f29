// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* colod headroom: the Batch and Mid figures a running agent published. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cjson/cJSON.h>
#include "cli.h"
#include "log.h"
#include "maps.h"

static void print_json(const struct colod_headroom *h, double age_s)
{
	cJSON *o = cJSON_CreateObject();
	char *text;

#define F(name) cJSON_AddNumberToObject(o, #name, (double)h->name)
	F(batch_cpu_milli);
	F(batch_memory_bytes);
	F(mid_cpu_milli);
	F(mid_memory_bytes);
	F(capacity_cpu_milli);
	F(capacity_memory_bytes);
	F(ls_used_cpu_milli);
	F(system_used_cpu_milli);
	F(be_quota_milli);
#undef F
	cJSON_AddNumberToObject(o, "age_s", age_s);
	text = cJSON_Print(o);
	if (text)
		puts(text);
	cJSON_free(text);
	cJSON_Delete(o);
}

static void print_table(const struct colod_headroom *h, double age_s)
{
	printf("capacity      cpu %8llum   memory %14lluB\n",
	       (unsigned long long)h->capacity_cpu_milli,
	       (unsigned long long)h->capacity_memory_bytes);
	printf("LS used       cpu %8llum   (short-term peak)\n",
	       (unsigned long long)h->ls_used_cpu_milli);
	printf("system used   cpu %8llum\n", (unsigned long long)h->system_used_cpu_milli);
	printf("Batch         cpu %8llum   memory %14lluB\n",
	       (unsigned long long)h->batch_cpu_milli,
	       (unsigned long long)h->batch_memory_bytes);
	printf("Mid           cpu %8llum   memory %14lluB\n",
	       (unsigned long long)h->mid_cpu_milli,
	       (unsigned long long)h->mid_memory_bytes);
	printf("BE allowance  cpu %8llum   (0: not limited)\n",
	       (unsigned long long)h->be_quota_milli);
	printf("computed %.1f s ago\n", age_s);
}

int cmd_headroom(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *pin_dir = COLOD_PIN_DIR_DEFAULT;
	struct colod_headroom h;
	struct colod_maps m;
	struct timespec now;
	bool json = false;
	double age;
	int opt, err;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "jp:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = true;
			break;
		case 'p':
			pin_dir = optarg;
			break;
		default:
			fprintf(stderr, "usage: colod headroom [--json] [--pin-dir DIR]\n"
				"Batch and Mid headroom as published by the agent running "
				"with --pin-dir DIR.\n");
			return opt == 'h' ? 0 : 2;
		}
	}
	err = maps_open_pinned(pin_dir, &m);
	if (err) {
		pr_err("%s: no running agent's maps there (%s); start 'colod run' "
		       "or pass its --pin-dir", pin_dir, strerror(-err));
		return 1;
	}
	err = maps_read_headroom(&m, &h);
	maps_close(&m);
	if (err || !h.updated_ns) {
		pr_err("%s: the agent has not computed headroom yet; retry in a second", pin_dir);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	age = ((uint64_t)now.tv_sec * 1000000000ULL + now.tv_nsec - h.updated_ns) / 1e9;
	if (json)
		print_json(&h, age);
	else
		print_table(&h, age);
	return 0;
}
