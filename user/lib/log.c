// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"

int log_verbosity = LOG_INFO;

static const char *const level_name[] = { "error", "warning", "info", "debug" };

/* C0 controls, DEL, and C1 controls as UTF-8 writes them (U+0080-U+009F). */
static size_t control_len(const unsigned char *p)
{
	if (*p < 0x20 || *p == 0x7f)
		return 1;
	if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
		return 2;
	return 0;
}

size_t log_escape(const char *in, char *out, size_t len)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t n = 0, k, i;

	if (!len)
		return 0;
	while (*p && n + 1 < len) {
		k = control_len(p);
		if (!k) {
			out[n++] = (char)*p++;
			continue;
		}
		/* \xNN per byte: a cgroup name cannot move the cursor or end a line */
		for (i = 0; i < k && n + 4 < len; i++, p++)
			n += (size_t)snprintf(out + n, len - n, "\\x%02x", *p);
		if (i < k)
			break;
	}
	out[n] = '\0';
	return n;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char stack[1024], *msg = NULL, *safe;
	size_t cap;
	va_list ap;
	int n;

	if ((int)level > log_verbosity)
		return;
	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	/* every byte may grow to 4: names from cgroupfs reach most messages */
	cap = (size_t)n * 4 + 1;
	safe = cap <= sizeof(stack) ? stack : malloc(cap);
	if (safe) {
		log_escape(msg, safe, cap);
		fprintf(stderr, "colod: %s: %s\n", level_name[level], safe);
	}
	if (safe != stack)
		free(safe);
	free(msg);
}
