// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * cmd_exporter.c - xdplb exporter --listen ADDR:PORT: the metrics and the
 * status page of an instance (exporter.h), in the foreground until
 * SIGTERM or SIGINT. The daemon serves the same with its --listen.
 *
 * It needs an instance to start. One that is detached later makes it
 * answer 503 until an instance is pinned at the directory again, which
 * it then serves.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/signalfd.h>

#include "cmd.h"
#include "exporter.h"
#include "log.h"
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

	if (http_server_new(listen_on, exporter_handle, &e, &srv, err,
			    sizeof(err))) {
		p_err("%s", err);
		return EXIT_FAIL;
	}
	if (open_instance(&x.lb, false))
		goto out;
	x.open = true;
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
