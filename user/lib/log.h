/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef COLOD_LOG_H
#define COLOD_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

extern int log_verbosity;	/* messages above this level are dropped */

/*
 * One line on stderr: "colod: <level>: <message>", control characters in
 * it (a cgroup name's newline or ESC) written as \xNN by log_escape().
 */
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Copy in to out (len bytes with the NUL) with C0 controls, DEL and C1
 * controls written as \xNN, so that a name from cgroupfs shown on a
 * terminal or in a log line cannot end the line or inject an escape
 * sequence. Truncates; returns the length written.
 */
size_t log_escape(const char *in, char *out, size_t len);

#define pr_err(...)	log_msg(LOG_ERROR, __VA_ARGS__)
#define pr_warn(...)	log_msg(LOG_WARN, __VA_ARGS__)
#define pr_info(...)	log_msg(LOG_INFO, __VA_ARGS__)
#define pr_debug(...)	log_msg(LOG_DEBUG, __VA_ARGS__)

#endif /* COLOD_LOG_H */
