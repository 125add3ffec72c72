/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * shell.h - running a shell command from the daemon: health checks'
 * exec:COMMAND and --bird-reload.
 */
#ifndef XDPLB_SHELL_H
#define XDPLB_SHELL_H

#include <signal.h>
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

/*
 * Has the shell pid (from spawn_shell; pidfd its pidfd, or -1) ended?
 * With block, wait until it has. 0 while it runs; 1 once it has ended
 * and is reaped, with how in *si; or a negative errno. Before it is
 * reaped, whatever is left of its process group is killed (SIGKILL): a
 * command's background children never outlive it, whether it passed or
 * not. (One that leaves the group, with setsid or setpgid, is beyond
 * reach.)
 */
int shell_reap(pid_t pid, int pidfd, bool block, siginfo_t *si);

#endif /* XDPLB_SHELL_H */
