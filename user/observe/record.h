/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The flight recorder: what the decide step saw and decided, one JSON line
 * per record, so that a decision can be replayed (colod replay), asked
 * "what if" under another configuration, and explained (colod explain).
 *
 * Records ("type"):
 *  - "config": the configuration in force (config_to_json), its
 *    generation, the kernel's levers (policy_caps) and the field names of
 *    the per-cgroup arrays. First in every file (a rotated file stands
 *    alone) and again whenever the generation changes.
 *  - "tick": the snapshot, the track as decide read it (one array per
 *    cgroup, full recordings only), the policy state before, the decision
 *    (knobs, actions, evictions), the state after, and the headroom
 *    inputs and Batch/Mid.
 *  - "breach": a confirmed breach event, the state before, decide_breach's
 *    answer and decision; its track is the last tick's (the track changes
 *    only in sense, at a tick).
 *
 * Integers above 2^53 (POLICY_NEVER, POLICY_UNLIMITED) are written as
 * strings so that a JSON reader with doubles keeps them exact.
 */
#ifndef COLOD_RECORD_H
#define COLOD_RECORD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "config.h"
#include "decide.h"
#include "headroom.h"
#include "policy.h"
#include "snapshot.h"
#include "track.h"

/* 2: cuts judged by their effect (state, breach evidence, per-cgroup breaches) */
#define RECORD_VERSION		2
#define RECORD_MAX_BYTES_DEFAULT	(64ULL << 20)
#define RECORD_FILES_DEFAULT	4
/* The agent's own short history for `colod explain`: <state>/decisions.jsonl */
#define RECORD_DECISIONS_FILE	"decisions.jsonl"
#define RECORD_DECISIONS_BYTES	(1ULL << 20)
#define RECORD_DECISIONS_FILES	2

enum record_type { RECORD_CONFIG = 0, RECORD_TICK, RECORD_BREACH, RECORD_NR };

/* What the agent holds that every record refers to. */
struct record_src {
	const struct colod_config *cfg;
	const struct policy_caps *caps;
	const uint64_t *gen;		/* configurations loaded so far */
	const struct track *track;
};

/* The headroom step of a tick: its inputs and Batch/Mid. */
struct record_headroom {
	struct headroom_input in;
	struct headroom_result out;
};

/* One record as read back (record_parse); owns what it points to. */
struct record {
	enum record_type type;
	uint64_t gen;
	/* config */
	char *config_json;
	struct policy_caps caps;
	/* tick and breach */
	struct policy_state before, after;
	int ret;			/* decide's return */
	struct decision dec;
	/* tick */
	struct snapshot snap;
	bool has_track;
	struct track track;
	bool has_headroom;
	struct record_headroom hr;
	/* breach */
	struct policy_breach breach;
};

/* ---- writing (recorder.c) ---- */

struct recorder;

/*
 * Append to path, rotated when it would pass max_bytes: path -> path.1 ...
 * path.<files-1>, the oldest dropped. with_track: the per-cgroup inputs
 * too (what replay needs); without, what explain needs. NULL with errno.
 */
struct recorder *recorder_open(const char *path, uint64_t max_bytes, unsigned int files,
			       bool with_track);
void recorder_close(struct recorder *r);
/* Each is a no-op on a NULL recorder. */
void recorder_tick(struct recorder *r, const struct record_src *src,
		   const struct policy_state *before, const struct policy_state *after,
		   const struct snapshot *snap, const struct decision *d,
		   const struct record_headroom *hr);
void recorder_breach(struct recorder *r, const struct record_src *src,
		     const struct policy_state *before, const struct policy_state *after,
		     const struct policy_breach *b, int ret, const struct decision *d);
/* Bytes written so far, all files. */
uint64_t recorder_bytes(const struct recorder *r);

/* ---- reading (record.c) ---- */

/*
 * Parse one line into *out (record_free() releases it). Returns 0, or
 * -EINVAL with err naming the field.
 */
int record_parse(const char *line, struct record *out, char *err, size_t len);
void record_free(struct record *r);
/* The parameters of a config record's configuration; -EINVAL with err. */
int record_config_params(const char *config_json, struct colod_config *cfg,
			 struct policy_params *pp, struct headroom_params *hp,
			 char *err, size_t len);
const char *record_type_name(enum record_type t);

/* ---- replaying (replay.c) ---- */

/*
 * Replay path: 0 when every decision is the same (or, with whatif_dir, the
 * what-if comparison was printed), 1 at the first difference (printed),
 * -errno when the file or a configuration cannot be read.
 */
int replay_file(const char *path, const char *whatif_dir, const struct node_labels *labels,
		FILE *out);
int cmd_replay(int argc, char **argv);
int cmd_explain(int argc, char **argv);	/* explain.c */

#endif /* COLOD_RECORD_H */
