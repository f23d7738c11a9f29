/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * colod run: the closed loop. One epoll loop over the ring buffer of LS
 * breaches, a 1 s tick, configuration changes and signals.
 */
#ifndef COLOD_AGENT_H
#define COLOD_AGENT_H

int cmd_run(int argc, char **argv);

#endif /* COLOD_AGENT_H */
