/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * shell.h - running a shell command from the daemon: health checks'
 * exec:COMMAND and --bird-reload.
 */
#ifndef XDPLB_SHELL_H
#define XDPLB_SHELL_H

#include <stdbool.h>
#include <sys/types.h>

/*
 * Start /bin/sh -c cmd with posix_spawn (the parent waits only until the
 * child has exec'd). The child gets an empty signal mask and default
 * dispositions (the daemon blocks the signals it reads through a
 * signalfd and ignores SIGPIPE), a process group of its own (so that a
 * timeout kills whatever the shell started: kill(-pid, ...)), standard
 * input from /dev/null and its output on /dev/null, or on our standard
 * error with keep_output. Returns 0 with *pid, or a negative errno.
 */
int spawn_shell(const char *cmd, char *const env[], bool keep_output,
		pid_t *pid);

#endif /* XDPLB_SHELL_H */
