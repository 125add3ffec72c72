// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * shell.c - running a shell command from the daemon (shell.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "shell.h"

int spawn_shell(const char *cmd, char *const env[], bool keep_output,
		pid_t *pid)
{
	static const int reset[] = { SIGHUP, SIGINT, SIGTERM, SIGPIPE,
				     SIGCHLD, SIGQUIT };
	char *argv[] = { "/bin/sh", "-c", (char *)cmd, NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t a;
	sigset_t none, dfl;
	size_t i;
	int err;

	sigemptyset(&none);
	sigemptyset(&dfl);
	for (i = 0; i < sizeof(reset) / sizeof(reset[0]); i++)
		sigaddset(&dfl, reset[i]);
	posix_spawnattr_init(&a);
	posix_spawnattr_setflags(&a, POSIX_SPAWN_SETSIGMASK |
				 POSIX_SPAWN_SETSIGDEF |
				 POSIX_SPAWN_SETPGROUP);
	posix_spawnattr_setsigmask(&a, &none);
	posix_spawnattr_setsigdefault(&a, &dfl);
	posix_spawnattr_setpgroup(&a, 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (keep_output) {
		posix_spawn_file_actions_adddup2(&fa, 2, 1);
	} else {
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null",
						 O_WRONLY, 0);
		posix_spawn_file_actions_adddup2(&fa, 1, 2);
	}
	err = posix_spawn(pid, "/bin/sh", &fa, &a, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&a);
	return -err;
}

int shell_reap(pid_t pid, int pidfd, bool block, siginfo_t *si)
{
	idtype_t type = pidfd >= 0 ? (idtype_t)P_PIDFD : P_PID;
	id_t id = pidfd >= 0 ? (id_t)pidfd : (id_t)pid;

	memset(si, 0, sizeof(*si));
	if (waitid(type, id, si, WEXITED | WNOWAIT | (block ? 0 : WNOHANG)))
		return -errno;
	if (!si->si_pid)
		return 0;
	/* Ended, not reaped: its pid, and so its group's id, is still its
	 * own. What it left running in the background goes with it. */
	kill(-pid, SIGKILL);
	memset(si, 0, sizeof(*si));
	if (waitid(type, id, si, WEXITED))
		return -errno;
	return 1;
}
