// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "agentrun.h"
#include "fileio.h"
#include "journal.h"
#include "tfile.h"

#define MAX_ARGS	32
#define FILE_MAX	(1 << 20)

/* Up to len - 1 bytes of path into buf, NUL-terminated; "" if unreadable. */
static void read_into(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;

	if (f) {
		n = fread(buf, 1, len - 1, f);
		fclose(f);
	}
	buf[n] = 0;
}

/* The same in a buffer of its own (the caller frees it): slurp()'s stays the caller's. */
static char *load(const char *path)
{
	char *buf = malloc(FILE_MAX + 1);

	if (buf)
		read_into(path, buf, FILE_MAX + 1);
	return buf;
}

void agentrun_init(struct agentrun *r, const char *name)
{
	char path[256];

	cr_assert_not_null(getenv("COLOD_BIN"), "COLOD_BIN names the colod binary (make sets it)");
	memset(r, 0, sizeof(*r));
	r->pid = -1;
	r->status = -1;
	snprintf(r->dir, sizeof(r->dir), "/tmp/colod-test-%s-XXXXXX", name);
	cr_assert_not_null(mkdtemp(r->dir));
	snprintf(r->pin_dir, sizeof(r->pin_dir), "/sys/fs/bpf/colod-test-%s-%d", name, getpid());
	snprintf(path, sizeof(path), "%s/config", r->dir);
	cr_assert_eq(mkdir(path, 0755), 0);
}

const char *agentrun_path(struct agentrun *r, const char *name)
{
	static char path[2][256];
	static int k;

	k ^= 1;
	snprintf(path[k], sizeof(path[k]), "%s/%s", r->dir, name);
	return path[k];
}

void agentrun_config(struct agentrun *r, const char *name, const char *text)
{
	tfile_put(agentrun_path(r, "config"), name, text);
}

void agentrun_start(struct agentrun *r, ...)
{
	const char *argv[MAX_ARGS];
	char cfg[256], state[256], log[256], actions[256];
	const char *bin = getenv("COLOD_BIN");
	pid_t parent;
	int n = 0, fd;
	va_list ap;

	cr_assert_not_null(bin, "COLOD_BIN names the colod binary (make sets it)");
	snprintf(cfg, sizeof(cfg), "%s/config", r->dir);
	snprintf(state, sizeof(state), "%s/state", r->dir);
	snprintf(log, sizeof(log), "%s/agent.log", r->dir);
	snprintf(actions, sizeof(actions), "%s/actions.jsonl", r->dir);
	argv[n++] = "colod";
	argv[n++] = "run";
	argv[n++] = "--config";
	argv[n++] = cfg;
	argv[n++] = "--state-dir";
	argv[n++] = state;
	argv[n++] = "--pin-dir";
	argv[n++] = r->pin_dir;
	argv[n++] = "--metrics-addr";
	argv[n++] = "127.0.0.1:0";
	if (!r->no_action_log) {
		argv[n++] = "--action-log";
		argv[n++] = actions;
	}
	va_start(ap, r);
	while (n < MAX_ARGS - 1 && (argv[n] = va_arg(ap, const char *)))
		n++;
	va_end(ap);
	argv[n] = NULL;
	fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
	cr_assert_geq(fd, 0);
	parent = getpid();
	r->pid = fork();
	cr_assert_geq(r->pid, 0);
	if (r->pid == 0) {
		/*
		 * A test that times out is killed before its .fini: the agent
		 * stops too (and restores), rather than run on as an orphan
		 * that later tests take for another agent on this machine.
		 */
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) || getppid() != parent)
			_exit(126);
		dup2(fd, 2);
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	close(fd);
}

int agentrun_stop(struct agentrun *r, int sig)
{
	if (r->pid <= 0)
		return r->status;
	kill(r->pid, sig);
	waitpid(r->pid, &r->status, 0);
	r->pid = -1;
	return r->status;
}

bool agentrun_alive(struct agentrun *r)
{
	if (r->pid > 0 && waitpid(r->pid, &r->status, WNOHANG) == r->pid)
		r->pid = -1;
	return r->pid > 0;
}

bool agentrun_wait_exit(struct agentrun *r, int timeout_ms)
{
	for (; timeout_ms > 0; timeout_ms -= 50) {
		if (!agentrun_alive(r))
			return true;
		usleep(50000);
	}
	return r->pid <= 0;
}

bool agentrun_log_has(struct agentrun *r, const char *needle)
{
	return file_has(agentrun_path(r, "agent.log"), needle);
}

bool agentrun_wait_log(struct agentrun *r, const char *needle, int timeout_ms)
{
	for (; timeout_ms > 0; timeout_ms -= 100) {
		if (agentrun_log_has(r, needle))
			return true;
		/* what it wrote before it exited is in the log now */
		if (!agentrun_alive(r))
			return agentrun_log_has(r, needle);
		usleep(100000);
	}
	return false;
}

struct action_match {
	char cg[320], kind[64];
	bool any_kind;
};

static bool action_matches(const char *line, const void *arg)
{
	const struct action_match *m = arg;

	return strstr(line, m->cg) && (m->any_kind || strstr(line, m->kind));
}

int agentrun_actions(struct agentrun *r, const char *kind, const char *rel, char *first,
		     size_t len)
{
	struct action_match m = { .any_kind = !kind };

	snprintf(m.cg, sizeof(m.cg), "\"cgroup\":\"/%s\"", rel);
	snprintf(m.kind, sizeof(m.kind), "\"kind\":\"%s\"", kind ? kind : "");
	return count_lines(agentrun_path(r, "actions.jsonl"), action_matches, &m, first, len);
}

void agentrun_show_log(struct agentrun *r)
{
	char *text = load(agentrun_path(r, "agent.log"));
	size_t n = text ? strlen(text) : 0;

	fprintf(stderr, "---- %s, last 4 KiB ----\n%s\n----\n",
		agentrun_path(r, "agent.log"), text ? text + (n > 4096 ? n - 4096 : 0) : "");
	free(text);
}

static unsigned int metrics_port(struct agentrun *r)
{
	char *text = load(agentrun_path(r, "agent.log")), *p;
	unsigned int port = 0;

	if (text && (p = strstr(text, "(port ")))
		sscanf(p, "(port %u)", &port);
	free(text);
	return port;
}

double agentrun_metric(struct agentrun *r, const char *series)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	static char body[1 << 21];
	const char *req = "GET /metrics HTTP/1.0\r\n\r\n";
	size_t len = 0;
	double v = -1;
	ssize_t n;
	char *p;
	int fd;

	sa.sin_port = htons(metrics_port(r));
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || !sa.sin_port || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    write(fd, req, strlen(req)) < 0)
		goto out;
	while (len < sizeof(body) - 1 && (n = read(fd, body + len, sizeof(body) - 1 - len)) > 0)
		len += (size_t)n;
	body[len] = 0;
	for (p = body; (p = strstr(p, series)); p++) {
		if (p != body && p[-1] != '\n')
			continue;
		sscanf(p + strlen(series), "%lf", &v);
		break;
	}
out:
	if (fd >= 0)
		close(fd);
	return v;
}

int agentrun_restore_to(struct agentrun *r, const char *redirect)
{
	char cmd[640];
	int st;

	snprintf(cmd, sizeof(cmd), "%s restore --state-dir %s/state%s",
		 getenv("COLOD_BIN") ?: "colod", r->dir, redirect);
	st = system(cmd);
	return st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int agentrun_restore(struct agentrun *r)
{
	return agentrun_restore_to(r, "");
}

int agentrun_replay(const char *rec)
{
	char cmd[1024];
	int st;

	snprintf(cmd, sizeof(cmd), "%s replay '%s' >&2", getenv("COLOD_BIN"), rec);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

void agentrun_keep_fixture(const char *rec, const char *name)
{
	const char *dir = getenv("COLOD_RECORD_FIXTURES");
	char path[512];

	if (!dir)
		return;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	tfile_write(path, slurp(rec));
}

int agentrun_journal_entries(struct agentrun *r)
{
	char *text = NULL, *p;
	int n = 0;

	if (file_read_all(agentrun_path(r, "state/journal.json"), JOURNAL_SIZE_MAX, &text))
		return -1;
	for (p = text; (p = strstr(p, "\"op\"")); p++)
		n++;
	free(text);
	return n;
}

void agentrun_cleanup(struct agentrun *r)
{
	char cmd[640];

	if (!r->dir[0])
		return;
	agentrun_stop(r, SIGTERM);
	/* a crashed agent leaves its journal: put every original back */
	if (agentrun_restore_to(r, " >/dev/null 2>&1") < 0)
		perror("restore");
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s", r->dir, r->pin_dir);
	if (system(cmd) < 0)
		perror("rm");
	r->dir[0] = 0;
}

const char *read_text(const char *path, char *buf, size_t len)
{
	read_into(path, buf, len);
	buf[strcspn(buf, "\n")] = 0;
	return buf;
}

bool wait_text(const char *path, const char *value, int timeout_ms)
{
	char buf[256];

	for (; timeout_ms > 0; timeout_ms -= 50) {
		if (!strcmp(read_text(path, buf, sizeof(buf)), value))
			return true;
		usleep(50000);
	}
	return false;
}

const char *slurp(const char *path)
{
	static char buf[FILE_MAX + 1];

	read_into(path, buf, sizeof(buf));
	return buf;
}

bool file_has(const char *path, const char *needle)
{
	char *text = load(path);
	bool found = text && strstr(text, needle);

	free(text);
	return found;
}

int count_lines(const char *path, bool (*match)(const char *line, const void *arg),
		const void *arg, char *first, size_t len)
{
	char *text = load(path), *line, *save = NULL;
	int n = 0;

	for (line = text ? strtok_r(text, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!match(line, arg))
			continue;
		if (!n++ && first)
			snprintf(first, len, "%s", line);
	}
	free(text);
	return n;
}

/*
 * Another "colod run" on this machine (a kernel test of another checkout)
 * classifies this test's kubepods tree as kubelet's and acts on it too.
 */
pid_t agentrun_other_agent(pid_t self)
{
	char path[64], cmd[256];
	struct dirent *d;
	pid_t found = 0;
	size_t n;
	DIR *proc = opendir("/proc");
	FILE *f;

	if (!proc)
		return 0;
	while (!found && (d = readdir(proc))) {
		pid_t pid = (pid_t)atoi(d->d_name);

		if (pid <= 0 || pid == self)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
		f = fopen(path, "r");
		if (!f)
			continue;
		n = fread(cmd, 1, sizeof(cmd) - 1, f);
		fclose(f);
		cmd[n] = 0;
		/* argv[0] "colod" or ".../colod", argv[1] "run" */
		if ((!strcmp(cmd, "colod") || (strlen(cmd) > 6 && !strcmp(cmd + strlen(cmd) - 6, "/colod"))) &&
		    strlen(cmd) + 4 <= n && !strcmp(cmd + strlen(cmd) + 1, "run"))
			found = pid;
	}
	closedir(proc);
	return found;
}
