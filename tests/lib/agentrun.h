/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The real `colod run` as a child of a real-kernel test: a temp directory
 * with config/ (ConfigMap keys), state/, agent.log (its stderr) and
 * actions.jsonl (its action log), a pin dir of its own, metrics on a free
 * loopback port it reports in its log. agentrun_cleanup() stops it, runs
 * `colod restore` on its state dir (a killed agent leaves its journal) and
 * removes the directories; safe to call from a .fini at any point.
 */
#ifndef COLOD_TESTS_AGENTRUN_H
#define COLOD_TESTS_AGENTRUN_H

#include <stdbool.h>
#include <sys/types.h>

struct agentrun {
	char dir[128];		/* /tmp/colod-test-<name>-XXXXXX */
	char pin_dir[128];
	pid_t pid;		/* -1: not running */
	int status;		/* wait status of the last stop */
};

/* Make the directories (config/ empty). Fails the test on error. */
void agentrun_init(struct agentrun *r, const char *name);
/* Write config/<name>. */
void agentrun_config(struct agentrun *r, const char *name, const char *text);
/* Start `colod run` with extra arguments (NULL-terminated). */
void agentrun_start(struct agentrun *r, ...);
/* Send sig and reap; returns the wait status. */
int agentrun_stop(struct agentrun *r, int sig);
/* Wait up to timeout_ms for the child to exit by itself; false if it did not. */
bool agentrun_wait_exit(struct agentrun *r, int timeout_ms);
/* Wait until agent.log holds needle. */
bool agentrun_wait_log(struct agentrun *r, const char *needle, int timeout_ms);
bool agentrun_log_has(struct agentrun *r, const char *needle);
/* GET /metrics; the value of the first sample starting with series, or -1. */
double agentrun_metric(struct agentrun *r, const char *series);
/* The end of agent.log on stderr, to explain a failure. */
void agentrun_show_log(struct agentrun *r);
/* Path of a file in the test's directory. */
const char *agentrun_path(struct agentrun *r, const char *name);
void agentrun_cleanup(struct agentrun *r);

/* Whole small file, newline stripped; "" if unreadable. */
const char *read_text(const char *path, char *buf, size_t len);
/* Poll path until it reads value. */
bool wait_text(const char *path, const char *value, int timeout_ms);

#endif /* COLOD_TESTS_AGENTRUN_H */
