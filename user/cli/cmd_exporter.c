// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * cmd_exporter.c - xdplb exporter --listen ADDR:PORT: the metrics and the
 * status page of an instance (exporter.h), in the foreground until
 * SIGTERM or SIGINT. The daemon serves the same with its --listen.
 *
 * It needs an instance to start. One that is detached later makes it
 * answer 503 until an instance is pinned at the directory again, which
 * it then serves.
 *
 * Once it listens and has the instance, it keeps only the capabilities
 * that reading the maps needs (limit_privileges()) and sets no_new_privs.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/signalfd.h>

#include "caps.h"
#include "cmd.h"
#include "exporter.h"
#include "log.h"
#include "snapshot.h"
#include "spec.h"

struct instance {
	struct lb lb;
	bool open;
};

/* The instance pinned at --pin-dir now: the one held while it is still
 * pinned, else a new one, else none. */
static struct lb *instance(void *ctx)
{
	struct instance *x = ctx;
	const char *what;

	if (x->open && !lb_still_pinned(&x->lb)) {
		fprintf(stderr, "xdplb: the instance at '%s' is gone; "
			"answering 503 until one is back\n", opts.pin_dir);
		lb_close(&x->lb);
		x->open = false;
	}
	if (!x->open) {
		lb_init(&x->lb);
		if (lb_open(&x->lb, opts.pin_dir, &what)) {
			lb_close(&x->lb);
			return NULL;
		}
		x->open = true;
		fprintf(stderr, "xdplb: serving the instance at '%s'\n",
			opts.pin_dir);
	}
	return &x->lb;
}

/* Privileges ------------------------------------------------------------ */

/* Does a scrape's reading work: open the instance again, read every map,
 * walk the connection table? 0 or -errno. */
static int try_read(void)
{
	struct snapshot *s = NULL;
	const char *what;
	struct lb lb;
	int err;

	lb_init(&lb);
	err = lb_open(&lb, opts.pin_dir, &what);
	if (!err) {
		s = snapshot_take(&lb);
		err = s ? 0 : -errno;
	}
	if (!err)
		err = snapshot_take_flows(&lb, s);
	if (s)
		snapshot_free(s);
	lb_close(&lb);
	return err;
}

/*
 * Keep the capabilities that a scrape's reading (and opening the instance
 * again after a detach and attach) needs: none if it works without, else
 * CAP_BPF. Measured on kernel 6.18 with `setpriv` and the exporter test,
 * as root (the pins are root's, mode 0600, in a 0700 directory):
 *   - bpf_obj_get() of a pin needs read and write permission on it, which
 *     uid 0 has as the owner: no CAP_DAC_OVERRIDE;
 *   - map lookups (batched too), bpf_obj_get_info_by_fd() and mmap() of
 *     the connection table need no capability since Linux 6.5; before
 *     it, with kernel.unprivileged_bpf_disabled set (Debian's default),
 *     every bpf() call needs CAP_BPF;
 *   - bpf_map_get_fd_by_id() (CAP_SYS_ADMIN) is not used by the exporter.
 * So on 6.18 it keeps none at all. Another user could not serve: mmap()
 * of a map needs a writable descriptor (a read-only one loses VM_SHARED:
 * EINVAL), so a pin its user may only read is not enough.
 */
static int limit_privileges(char *err, size_t len)
{
	cap_value_t bpf = CAP_BPF;
	int n = 0, ret;
	char *t;

	ret = caps_try(NULL, 0);
	if (!ret)
		ret = try_read();
	if (ret && caps_permitted(CAP_BPF)) {
		n = 1;
		ret = caps_try(&bpf, 1);
		if (!ret)
			ret = try_read();
	}
	if (ret) {
		snprintf(err, len, "cannot read the instance at '%s' with the "
			 "capabilities it may keep (%s): %s", opts.pin_dir,
			 n ? "CAP_BPF" : "none", strerror(-ret));
		return ret;
	}
	ret = caps_limit(&bpf, n, err, len);
	if (ret)
		return ret;
	t = caps_text();
	fprintf(stderr, "xdplb: exporter keeps %s%s, no_new_privs set\n",
		n ? "only " : "no capabilities",
		n ? (t ? t : "CAP_BPF") : "");
	cap_free(t);
	return 0;
}

/* Serve until SIGTERM or SIGINT. */
static int serve(struct http_server *srv, int sigfd)
{
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = sigfd, .events = POLLIN },
			{ .fd = http_fd(srv), .events = POLLIN },
		};

		if (poll(p, 2, http_timeout(srv)) < 0 && errno != EINTR) {
			p_err("poll: %s", strerror(errno));
			return EXIT_FAIL;
		}
		if (p[0].revents)
			return EXIT_OK;
		http_dispatch(srv);
	}
}

static const char exporter_usage[] = "exporter --listen ADDR:PORT";

int do_exporter(int argc, char **argv)
{
	static const struct option exporter_opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	struct instance x = {};
	struct exporter e = { .instance = instance, .ctx = &x };
	struct http_server *srv = NULL;
	const char *listen_on = NULL;
	int c, sigfd, ret = EXIT_FAIL;
	char err[256];
	sigset_t set;

	optind = 0;
	while ((c = spec_getopt(argc, argv, exporter_opts, err,
				sizeof(err))) != -1) {
		if (c != 'l')
			return spec_report(-c, err);
		listen_on = optarg;
	}
	if (optind != argc)
		return usage_error(argv[0], "unexpected '%s' (%s)",
				   argv[optind], exporter_usage);
	if (!listen_on)
		return usage_error(argv[0], "--listen ADDR:PORT is required");

	if (exporter_listen(&e, listen_on, &srv, err, sizeof(err))) {
		p_err("%s", err);
		return EXIT_FAIL;
	}
	if (open_instance(&x.lb, OPEN_READ))
		goto out;
	x.open = true;
	if (limit_privileges(err, sizeof(err))) {
		p_err("%s", err);
		goto out;
	}
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) ||
	    (sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
		p_err("cannot set up signals: %s", strerror(errno));
		goto out;
	}
	fprintf(stderr, "xdplb: exporter on %s: /metrics, / (status page), "
		"/status.json; instance at '%s'\n", listen_on, opts.pin_dir);
	ret = serve(srv, sigfd);
	close(sigfd);
out:
	http_server_free(srv);
	if (x.open)
		lb_close(&x.lb);
	return ret;
}
