// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * status_page.c - the exporter's status page (see status_page.h).
 *
 * The server renders the table once, so the page is useful without
 * script; the script renders the same rows (same classes and data-*
 * attributes) from each /status.json it fetches. Rates need two samples:
 * until the second one they show a dash.
 */
#include <netinet/in.h>
#include <string.h>

#include "addr.h"
#include "spec.h"
#include "status_page.h"

static const char page_head[] =
"<!DOCTYPE html>\n"
"<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
"<title>xdplb status</title>\n"
"<style>\n"
"body{font:14px/1.4 system-ui,-apple-system,\"Segoe UI\",sans-serif;"
"margin:0;color:#1d2330;background:#f4f6f9}\n"
"header{background:#1d2330;color:#fff;padding:12px 24px;display:flex;"
"align-items:baseline;gap:16px;flex-wrap:wrap}\n"
"header h1{font-size:20px;margin:0}\n"
"header .inst{color:#b8c2d6}\n"
"#state{margin-left:auto;font-size:13px;color:#b8c2d6}\n"
"#state.live::before{content:\"\\25cf  \";color:#3ccf7a}\n"
"#state.stale::before{content:\"\\25cf  \";color:#f0b429}\n"
"main{padding:16px 24px}\n"
"#summary{margin:0 0 12px;color:#4a5468}\n"
"#upgrade{margin:0 0 12px;padding:8px 12px;background:#fff4d6;"
"border-left:4px solid #f0b429}\n"
"table{border-collapse:collapse;width:100%;background:#fff;"
"box-shadow:0 1px 3px rgba(0,0,0,.12);border-radius:6px;overflow:hidden}\n"
"th,td{padding:6px 12px;text-align:left;white-space:nowrap}\n"
"th{background:#e8ecf2;font-weight:600;font-size:12px;"
"text-transform:uppercase;letter-spacing:.04em;color:#4a5468}\n"
"td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}\n"
"tr.svc td{background:#f9fafc;border-top:2px solid #d5dbe5;"
"font-weight:600}\n"
"tr.real td{border-top:1px solid #eef1f5}\n"
"tr.real td.name{padding-left:32px;font-family:ui-monospace,monospace}\n"
"tr.svc .vip{font-family:ui-monospace,monospace}\n"
".proto{display:inline-block;min-width:34px;color:#4a5468}\n"
".check,.opt{font-weight:400;color:#6b7588;font-size:12px}\n"
".badge{display:inline-block;padding:1px 8px;border-radius:10px;"
"font-size:12px;font-weight:600}\n"
".badge.up{background:#d9f5e5;color:#13663a}\n"
".badge.down{background:#fde2e1;color:#9b1c1c}\n"
".badge.sorry{background:#eceff4;color:#4a5468}\n"
".badge.drain{background:#fff1d6;color:#8a5a00}\n"
"td.rate{color:#1f5fbf}\n"
"</style></head>\n<body>\n";

/* The script: fetch status.json every 2 s, rates from the last two. */
static const char page_script[] =
"<script>\n"
"(function () {\n"
"  'use strict';\n"
"  var prev = null, samples = 0;\n"
"  var SI = ['', 'k', 'M', 'G', 'T'];\n"
"  function si(v, unit) {\n"
"    var i = 0;\n"
"    while (Math.abs(v) >= 1000 && i < SI.length - 1) { v /= 1000; i++; }\n"
"    return (i ? v.toFixed(1) : v.toFixed(v < 10 && v % 1 ? 1 : 0)) +\n"
"      (SI[i] || unit ? ' ' + SI[i] + unit : '');\n"
"  }\n"
"  function td(cls, text) {\n"
"    var c = document.createElement('td');\n"
"    if (cls) c.className = cls;\n"
"    if (text !== undefined) c.textContent = text;\n"
"    return c;\n"
"  }\n"
"  function span(cls, text) {\n"
"    var s = document.createElement('span');\n"
"    s.className = cls;\n"
"    s.textContent = text;\n"
"    return s;\n"
"  }\n"
"  function rate(key, field, now, unit, dt) {\n"
"    if (!prev || !(key in prev.c) || dt <= 0) return '\\u2013';\n"
"    var d = now[key][field] - prev.c[key][field];\n"
"    return si(d > 0 ? d / dt : 0, unit);\n"
"  }\n"
"  function counters(d) {\n"
"    var c = {};\n"
"    d.services.forEach(function (s) {\n"
"      c[s.vip] = { p: s.packets, b: s.bytes };\n"
"      s.reals.forEach(function (r) {\n"
"        c[s.vip + ' ' + r.address] = { p: r.packets, b: r.bytes };\n"
"      });\n"
"    });\n"
"    return c;\n"
"  }\n"
"  function counterCells(tr, key, x, now, dt) {\n"
"    tr.appendChild(td('num', x.packets.toLocaleString('en-US')));\n"
"    tr.appendChild(td('num', x.bytes.toLocaleString('en-US')));\n"
"    tr.appendChild(td('num rate', rate(key, 'p', now, '', dt)));\n"
"    tr.appendChild(td('num rate', rate(key, 'b', now, 'B', dt)));\n"
"  }\n"
"  function render(d, t) {\n"
"    var now = counters(d), dt = prev ? (t - prev.t) / 1000 : 0;\n"
"    var rows = [], up = 0, total = 0;\n"
"    d.services.forEach(function (s) {\n"
"      var tr = document.createElement('tr'), name = td('name');\n"
"      tr.className = 'svc';\n"
"      tr.dataset.vip = s.vip;\n"
"      name.appendChild(span('proto', s.protocol.toUpperCase()));\n"
"      name.appendChild(span('vip', s.vip.replace(/\\/(tcp|udp)$/, '')));\n"
"      var o = [];\n"
"      if (s.hash === 'src-ip') o.push('src-ip');\n"
"      if (s.ops) o.push('ops');\n"
"      if (o.length) name.appendChild(span('opt', ' ' + o.join(' ')));\n"
"      if (s.check !== 'none')\n"
"        name.appendChild(span('check', ' \\u00b7 check ' + s.check +\n"
"          ' every ' + s.interval + ' s, quorum ' + s.quorum));\n"
"      tr.appendChild(name);\n"
"      tr.appendChild(td('num'));\n"
"      tr.appendChild(td(''));\n"
"      counterCells(tr, s.vip, s, now, dt);\n"
"      rows.push(tr);\n"
"      s.reals.forEach(function (r) {\n"
"        var tr = document.createElement('tr'), h = td('health');\n"
"        tr.className = 'real';\n"
"        tr.dataset.real = r.address;\n"
"        tr.dataset.health = r.health;\n"
"        tr.appendChild(td('name', r.address));\n"
"        tr.appendChild(td('num weight', String(r.weight)));\n"
"        h.appendChild(span('badge ' + r.health, r.health));\n"
"        if (r.sorry) h.appendChild(span('badge sorry', 'sorry'));\n"
"        if (!r.weight) h.appendChild(span('badge drain', 'drained'));\n"
"        tr.appendChild(h);\n"
"        counterCells(tr, s.vip + ' ' + r.address, r, now, dt);\n"
"        rows.push(tr);\n"
"        total++;\n"
"        if (r.health === 'up') up++;\n"
"      });\n"
"    });\n"
"    document.getElementById('rows').replaceChildren.apply(\n"
"      document.getElementById('rows'), rows);\n"
"    document.getElementById('summary').textContent =\n"
"      d.services.length + ' services, ' + up + ' of ' + total +\n"
"      ' reals up';\n"
"    prev = { t: t, c: now };\n"
"  }\n"
"  function state(cls, text) {\n"
"    var e = document.getElementById('state');\n"
"    e.className = cls;\n"
"    e.textContent = text;\n"
"  }\n"
"  function refresh() {\n"
"    fetch('status.json', { cache: 'no-store' }).then(function (r) {\n"
"      if (!r.ok) throw new Error('HTTP ' + r.status);\n"
"      return r.json();\n"
"    }).then(function (d) {\n"
"      render(d, 'sampled_at' in d ? d.sampled_at * 1000 :\n"
"        performance.now());\n"
"      samples++;\n"
"      document.body.dataset.samples = samples;\n"
"      state('live', 'live \\u00b7 updated ' +\n"
"        new Date().toLocaleTimeString('en-GB') + ' \\u00b7 every 2 s');\n"
"    }).catch(function (e) {\n"
"      state('stale', 'not updating: ' + e.message);\n"
"    });\n"
"  }\n"
"  refresh();\n"
"  setInterval(refresh, 2000);\n"
"})();\n"
"</script>\n";

/* Text for an HTML element or attribute. */
static void html(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
	}
}

static void counter_cells(FILE *f, const struct xdplb_counters *c)
{
	fprintf(f, "<td class=\"num\">%llu</td><td class=\"num\">%llu</td>"
		"<td class=\"num rate\">&ndash;</td>"
		"<td class=\"num rate\">&ndash;</td></tr>\n",
		c->packets, c->bytes);
}

static void service_row(FILE *f, const struct snapshot *s,
			const struct lb_service *sv)
{
	const struct xdplb_svc_opts *o = &s->opts[sv->svc.id];
	char vip[ADDR_STRLEN], check[sizeof(o->arg) + 16], iv[16];

	format_vip(&sv->key, vip, sizeof(vip));
	fputs("<tr class=\"svc\" data-vip=\"", f);
	html(f, vip);
	fprintf(f, "\"><td class=\"name\"><span class=\"proto\">%s</span>"
		"<span class=\"vip\">", sv->key.proto == IPPROTO_UDP ? "UDP" :
		"TCP");
	*strrchr(vip, '/') = '\0';
	html(f, vip);
	fputs("</span>", f);
	if (sv->svc.flags & (XDPLB_SVC_F_HASH_SRC | XDPLB_SVC_F_OPS))
		fprintf(f, "<span class=\"opt\">%s%s</span>",
			sv->svc.flags & XDPLB_SVC_F_HASH_SRC ? " src-ip" : "",
			sv->svc.flags & XDPLB_SVC_F_OPS ? " ops" : "");
	if (o->check != XDPLB_CHECK_NONE) {
		format_check_redacted(o, check, sizeof(check));
		format_secs(o->interval_ms, iv, sizeof(iv));
		fputs("<span class=\"check\"> &middot; check ", f);
		html(f, check);
		fprintf(f, " every %s s, quorum %u</span>", iv, o->quorum);
	}
	fputs("</td><td class=\"num\"></td><td></td>", f);
	counter_cells(f, &s->svc[sv->svc.id]);
}

static void real_row(FILE *f, const struct snapshot *s, int id)
{
	const struct xdplb_real *r = &s->reals[id];
	const char *health = r->flags & XDPLB_REAL_F_DOWN ? "down" : "up";
	char addr[ADDR_STRLEN];

	format_addr(&r->addr, r->family, addr, sizeof(addr));
	fprintf(f, "<tr class=\"real\" data-real=\"%s\" data-health=\"%s\">"
		"<td class=\"name\">%s</td><td class=\"num weight\">%u</td>"
		"<td class=\"health\"><span class=\"badge %s\">%s</span>%s%s"
		"</td>", addr, health, addr, r->weight, health, health,
		r->flags & XDPLB_REAL_F_SORRY ?
		"<span class=\"badge sorry\">sorry</span>" : "",
		r->weight ? "" : "<span class=\"badge drain\">drained</span>");
	counter_cells(f, &s->real[id]);
}

void status_page_write(FILE *f, const struct lb *lb, const struct snapshot *s,
		       int *ids)
{
	int i, j, n, up = 0, total = 0;
	char prog[96], warn[256];

	for (i = 0; i < XDPLB_MAX_REALS; i++) {
		if (!(s->reals[i].flags & XDPLB_REAL_F_USED))
			continue;
		total++;
		up += !(s->reals[i].flags & XDPLB_REAL_F_DOWN);
	}
	fputs(page_head, f);
	fputs("<header><h1>xdplb</h1><span class=\"inst\">", f);
	html(f, lb->cfg.ifname);
	fprintf(f, " (%s) &middot; ", lb_mode_name(lb));
	snapshot_prog_text(s, prog, sizeof(prog));
	html(f, prog);
	fputs(" &middot; pin dir ", f);
	html(f, lb->pin_dir);
	fputs("</span><span id=\"state\">static view: rates need "
	      "JavaScript</span></header>\n<main>\n", f);
	snapshot_prog_warning(lb, s, warn, sizeof(warn));
	if (warn[0]) {
		fputs("<p id=\"upgrade\">", f);
		html(f, warn);
		fputs("</p>\n", f);
	}
	fprintf(f, "<p id=\"summary\">%d services, %d of %d reals up</p>\n",
		s->nsvcs, up, total);
	fputs("<table><thead><tr><th>Service / real</th>"
	      "<th class=\"num\">Weight</th><th>Health</th>"
	      "<th class=\"num\">Packets</th><th class=\"num\">Bytes</th>"
	      "<th class=\"num\">Packets/s</th><th class=\"num\">Bytes/s</th>"
	      "</tr></thead>\n<tbody id=\"rows\">\n", f);
	for (i = 0; i < s->nsvcs; i++) {
		service_row(f, s, &s->svcs[i]);
		n = snapshot_service_reals(s, s->svcs[i].svc.id, ids);
		for (j = 0; j < n; j++)
			real_row(f, s, ids[j]);
	}
	fputs("</tbody></table>\n</main>\n", f);
	fputs(page_script, f);
	fputs("</body></html>\n", f);
}
