// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xdplb web console: the page's script (served as its own file: the
 * Content-Security-Policy allows no inline script).
 *
 * It talks only to the API beside it (/api/v1/...): the session cookie is
 * HttpOnly, so the script never sees it; the CSRF token the login answer
 * (and /api/v1/session) gives goes with every change, in X-CSRF-Token.
 * Every change is a POST of lines to /api/v1/config, the lines of a form
 * in one request, so that the server applies all of them or none.
 *
 * The overview is read from /api/v1/status every POLL_MS; rates come from
 * successive samples (their sampled_at), and the charts show the last
 * HISTORY_S seconds of them, kept here: a reload of the page starts them
 * afresh.
 */
(function () {
  'use strict';

  var POLL_MS = 2000;
  var HISTORY_S = 300;
  var COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd',
    '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f'];
  var TOTAL_COLOR = '#1d2330';

  var session = null;          // {user, role, csrf}
  var status = null;           // the last /api/v1/status
  var inactive = {};           // "vip|addr" -> weight to give back
  var history = {};            // key -> [{t, p, b}], oldest first
  var events = [];
  var timer = null;
  var polling = false;
  var lastOk = 0;

  function $(id) { return document.getElementById(id); }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  var SI = ['', 'k', 'M', 'G', 'T'];
  function si(v, unit) {
    var i = 0;
    if (!isFinite(v)) return '-';
    while (Math.abs(v) >= 1000 && i < SI.length - 1) { v /= 1000; i++; }
    var s = i ? v.toFixed(v < 10 ? 1 : 0) : (v < 10 && v % 1 ? v.toFixed(1) : v.toFixed(0));
    return s + (SI[i] || unit ? ' ' + SI[i] + (unit || '') : '');
  }

  function toast(msg, bad) {
    var t = $('toast');
    t.textContent = msg;
    t.className = bad ? 'bad' : '';
    t.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { t.hidden = true; }, bad ? 6000 : 3000);
  }

  // ---------------------------------------------------------------- API

  function api(method, path, body, type) {
    var h = { 'X-Requested-With': 'xdplb-console' };
    if (session && session.csrf && method !== 'GET') h['X-CSRF-Token'] = session.csrf;
    if (body !== undefined) h['Content-Type'] = type || 'text/plain; charset=utf-8';
    return fetch(path, { method: method, headers: h, body: body,
      credentials: 'same-origin', cache: 'no-store' }).then(function (r) {
      var ct = r.headers.get('Content-Type') || '';
      var p = ct.indexOf('json') >= 0 ? r.json() : r.text();
      return p.then(function (data) {
        if (r.status === 401 && path !== '/api/v1/login') loggedOut();
        return { status: r.status, ok: r.ok, data: data,
          retry: r.headers.get('Retry-After') };
      });
    });
  }

  function errorText(res) {
    if (res.data && typeof res.data === 'object' && res.data.error) return res.data.error;
    return 'HTTP ' + res.status;
  }

  // Lines applied together; 503 (the lock busy) is tried again a few times.
  function change(lines, tries) {
    tries = tries === undefined ? 5 : tries;
    return api('POST', '/api/v1/config', lines.join('\n') + '\n').then(function (res) {
      if (res.status === 503 && tries > 0) {
        return new Promise(function (ok) {
          setTimeout(ok, 1000 * (parseInt(res.retry, 10) || 1));
        }).then(function () { return change(lines, tries - 1); });
      }
      return res;
    });
  }

  // ---------------------------------------------------------------- views

  var VIEWS = ['login', 'overview', 'service', 'real', 'events'];

  function show(name) {
    VIEWS.forEach(function (v) { $('view-' + v).hidden = v !== name; });
    $('nav-overview').className = name === 'overview' ? 'current' : '';
    $('nav-events').className = name === 'events' ? 'current' : '';
    document.title = 'xdplb console' + (name === 'login' ? '' : ' - ' + name);
  }

  function route() {
    var h = decodeURIComponent(location.hash.replace(/^#/, '')) || '/';
    var m;
    if (!session) { show('login'); $('login-user').focus(); return; }
    if (h === '/events') { show('events'); renderEvents(); pollEvents(); return; }
    if (h === '/service/new') { serviceForm(null); return; }
    if ((m = /^\/service\/(.+)$/.exec(h))) { serviceForm(m[1]); return; }
    if ((m = /^\/real\/new\/(.+)$/.exec(h))) { realForm(m[1], null); return; }
    if ((m = /^\/real\/([^|]+)\|(.+)$/.exec(h))) { realForm(m[1], m[2]); return; }
    show('overview');
    renderOverview();
  }

  function go(hash) {
    if (location.hash === hash) route();
    else location.hash = hash;
  }

  // ---------------------------------------------------------------- session

  function loggedIn(s) {
    session = s;
    document.body.className = s.role === 'admin' ? 'admin' : 'viewer';
    $('who').textContent = s.user + ' (' + s.role + ')';
    $('logout').hidden = false;
    $('nav').hidden = false;
    startPolling();
    route();
  }

  function loggedOut() {
    if (!session) return;
    session = null;
    status = null;
    stopPolling();
    $('who').textContent = '';
    $('logout').hidden = true;
    $('nav').hidden = true;
    $('live').textContent = '';
    route();
  }

  function login(e) {
    e.preventDefault();
    var err = $('login-error');
    err.textContent = '';
    $('login-submit').disabled = true;
    api('POST', '/api/v1/login', JSON.stringify({ user: $('login-user').value,
      password: $('login-password').value }), 'application/json').then(function (res) {
      $('login-submit').disabled = false;
      if (!res.ok) {
        err.textContent = errorText(res);
        return;
      }
      $('login-password').value = '';
      loggedIn(res.data);
    }).catch(function (x) {
      $('login-submit').disabled = false;
      err.textContent = 'cannot reach the console: ' + x;
    });
  }

  function logout() {
    api('POST', '/api/v1/logout').then(function () { loggedOut(); });
  }

  // ---------------------------------------------------------------- polling

  function startPolling() {
    if (timer) return;
    poll();
    timer = setInterval(poll, POLL_MS);
  }

  function stopPolling() {
    clearInterval(timer);
    timer = null;
  }

  function poll() {
    if (polling || !session) return;
    polling = true;
    Promise.all([api('GET', '/api/v1/status'), api('GET', '/api/v1/inactive')])
      .then(function (r) {
        polling = false;
        var live = $('live');
        if (!r[0].ok) {
          live.className = 'live stale';
          live.textContent = errorText(r[0]);
          return;
        }
        lastOk = Date.now();
        live.className = 'live ok';
        live.textContent = 'live';
        status = r[0].data;
        inactive = {};
        if (r[1].ok) {
          r[1].data.reals.forEach(function (x) { inactive[x.vip + '|' + x.address] = x.weight; });
        }
        sample(status);
        $('instance').textContent = status.interface + ' (' + status.mode + ')' +
          (status.program && status.program.version ? ', xdplb ' + status.program.version : '');
        if (!$('view-overview').hidden) renderOverview();
        if (!$('view-events').hidden) pollEvents();
      }).catch(function () {
        polling = false;
        $('live').className = 'live stale';
        $('live').textContent = 'no answer';
      });
  }

  // ---------------------------------------------------------------- rates

  function push(key, t, p, b) {
    var h = history[key] || (history[key] = []);
    if (h.length && h[h.length - 1].t >= t) return;
    h.push({ t: t, p: p, b: b });
    while (h.length > 2 && h[0].t < t - HISTORY_S - 5) h.shift();
  }

  function sample(st) {
    var t = st.sampled_at;
    st.services.forEach(function (s) {
      push('s:' + s.vip, t, s.packets, s.bytes);
      s.reals.forEach(function (r) { push('r:' + s.vip + '|' + r.address, t, r.packets, r.bytes); });
    });
  }

  // Rates between successive samples: [{t, p, b}] per second.
  function rates(key) {
    var h = history[key] || [], out = [], i, dt;
    for (i = 1; i < h.length; i++) {
      dt = h[i].t - h[i - 1].t;
      if (dt <= 0) continue;
      out.push({ t: h[i].t, p: Math.max(0, (h[i].p - h[i - 1].p) / dt),
        b: Math.max(0, (h[i].b - h[i - 1].b) / dt) });
    }
    return out;
  }

  function lastRate(key) {
    var r = rates(key);
    return r.length ? r[r.length - 1] : null;
  }

  // ---------------------------------------------------------------- charts

  function niceMax(v) {
    if (v <= 0) return 1;
    var e = Math.pow(10, Math.floor(Math.log10(v))), m = v / e;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * e;
  }

  // series: [{name, color, width, points: [{t, v}]}]
  function drawChart(canvas, series, now, unit) {
    var dpr = window.devicePixelRatio || 1;
    var w = canvas.clientWidth || 400, h = canvas.clientHeight || 150;
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
    var g = canvas.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    var L = 66, R = 8, T = 8, B = 20, pw = w - L - R, ph = h - T - B;
    var max = 0;
    series.forEach(function (s) { s.points.forEach(function (p) { if (p.v > max) max = p.v; }); });
    max = niceMax(max);
    var ticks = /^5/.test(max.toExponential()) ? 5 : 4;
    g.font = '11px system-ui, sans-serif';
    g.fillStyle = '#5d6779';
    g.strokeStyle = '#e3e7ee';
    g.lineWidth = 1;
    var i, y, x;
    for (i = 0; i <= ticks; i++) {
      y = T + ph - ph * i / ticks;
      g.beginPath(); g.moveTo(L, y + 0.5); g.lineTo(L + pw, y + 0.5); g.stroke();
      g.textAlign = 'right'; g.textBaseline = 'middle';
      g.fillText(si(max * i / ticks, unit), L - 6, y);
    }
    g.textBaseline = 'top';
    for (i = 0; i <= 5; i++) {
      x = L + pw * i / 5;
      g.textAlign = i === 0 ? 'left' : i === 5 ? 'right' : 'center';
      g.fillText(i === 5 ? 'now' : '-' + (5 - i) + ' min', x, T + ph + 4);
    }
    function px(t) { return L + pw * (1 - (now - t) / HISTORY_S); }
    function py(v) { return T + ph - ph * v / max; }
    series.forEach(function (s) {
      if (s.points.length < 1) return;
      g.strokeStyle = s.color;
      g.lineWidth = s.width || 1.5;
      g.beginPath();
      s.points.forEach(function (p, k) {
        var X = Math.max(L, px(p.t)), Y = py(p.v);
        if (k) g.lineTo(X, Y); else g.moveTo(X, Y);
      });
      g.stroke();
    });
  }

  // ---------------------------------------------------------------- overview

  function svcOpts(s) {
    var o = [s.protocol.toUpperCase(), s.hash === 'src-ip' ? 'persistence (src-ip)' : 'Maglev 5-tuple'];
    if (s.ops) o.push('one-packet');
    o.push('table ' + s.table_size);
    o.push(s.check === 'none' ? 'no check' : 'check ' + s.check + ' every ' + s.interval + ' s');
    if (s.quorum > 1) o.push('quorum ' + s.quorum);
    return o.join(' · ');
  }

  function button(text, cls, fn, id) {
    var b = el('button', cls, text);
    b.type = 'button';
    if (id) b.id = id;
    b.addEventListener('click', fn);
    return b;
  }

  function slug(s) { return s.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, ''); }

  function renderOverview() {
    var box = $('services');
    if (!status) { box.textContent = 'loading...'; return; }
    box.textContent = '';
    $('no-services').hidden = status.services.length > 0;
    var nreals = 0, up = 0;
    status.services.forEach(function (s) {
      nreals += s.reals.length;
      s.reals.forEach(function (r) { if (r.health === 'up' && r.weight) up++; });
      box.appendChild(serviceCard(s));
    });
    $('summary').textContent = status.services.length + ' service' +
      (status.services.length === 1 ? '' : 's') + ', ' + nreals + ' real' +
      (nreals === 1 ? '' : 's') + ', ' + up + ' taking new flows';
  }

  function serviceCard(s) {
    var card = el('section', 'card svc');
    card.id = 'svc-' + slug(s.vip);
    var head = el('div', 'svc-head');
    head.appendChild(el('span', 'vip', s.vip));
    head.appendChild(el('span', 'opts', svcOpts(s)));
    var r = lastRate('s:' + s.vip);
    var flows = s.reals.reduce(function (a, x) { return a + (x.flows || 0); }, 0);
    head.appendChild(el('span', 'rates', (r ? si(r.p, 'pkt/s') + ' · ' + si(r.b, 'B/s') : '- pkt/s') +
      ' · ' + flows + ' flow' + (flows === 1 ? '' : 's')));
    var acts = el('span', 'actions admin');
    acts.appendChild(button('Add real', 'small', function () { go('#/real/new/' + encodeURIComponent(s.vip)); }));
    acts.appendChild(button('Edit', 'small ghost', function () { go('#/service/' + encodeURIComponent(s.vip)); }));
    acts.appendChild(button('Delete', 'small danger', function () { deleteService(s); }));
    head.appendChild(acts);
    card.appendChild(head);

    var colors = {};
    s.reals.forEach(function (x, i) { colors[x.address] = COLORS[i % COLORS.length]; });
    var now = status.sampled_at;
    var charts = el('div', 'charts');
    [['p', 'Packets per second', 'pkt/s'], ['b', 'Bytes per second', 'B/s']].forEach(function (k) {
      var c = el('div', 'chart');
      c.appendChild(el('h3', null, k[1]));
      var cv = el('canvas');
      cv.setAttribute('aria-label', k[1] + ' of ' + s.vip);
      c.appendChild(cv);
      charts.appendChild(c);
      var series = [{ name: 'service', color: TOTAL_COLOR, width: 2.2,
        points: rates('s:' + s.vip).map(function (x) { return { t: x.t, v: x[k[0]] }; }) }];
      s.reals.forEach(function (x) {
        series.push({ name: x.address, color: colors[x.address],
          points: rates('r:' + s.vip + '|' + x.address).map(function (y) { return { t: y.t, v: y[k[0]] }; }) });
      });
      requestAnimationFrame(function () { drawChart(cv, series, now, k[2]); });
    });
    card.appendChild(charts);
    var legend = el('div', 'legend');
    var tot = el('span', null, 'service total');
    tot.style.setProperty('--c', TOTAL_COLOR);
    legend.appendChild(tot);
    s.reals.forEach(function (x) {
      var l = el('span', null, x.address);
      l.style.setProperty('--c', colors[x.address]);
      legend.appendChild(l);
    });
    card.appendChild(legend);
    card.appendChild(realsTable(s, colors));
    return card;
  }

  function realsTable(s, colors) {
    var t = el('table', 'grid reals');
    var hr = el('tr');
    ['Real', 'Weight', 'MAC', 'Health', 'Flows', 'Packets/s', 'Bytes/s', ''].forEach(function (h, i) {
      hr.appendChild(el('th', i === 1 || (i >= 4 && i <= 6) ? 'num' : null, h));
    });
    var thead = el('thead');
    thead.appendChild(hr);
    t.appendChild(thead);
    var tb = el('tbody');
    if (!s.reals.length) {
      var tr0 = el('tr');
      var td0 = el('td', 'muted', 'No real server yet.');
      td0.colSpan = 8;
      tr0.appendChild(td0);
      tb.appendChild(tr0);
    }
    s.reals.forEach(function (r) {
      var tr = el('tr');
      tr.id = 'real-' + slug(s.vip + '-' + r.address);
      tr.dataset.address = r.address;
      var name = el('td', 'addr');
      var sw = el('span', 'swatch');
      sw.style.setProperty('--c', colors[r.address]);
      name.appendChild(sw);
      name.appendChild(document.createTextNode(r.address));
      tr.appendChild(name);
      tr.appendChild(el('td', 'num weight', String(r.weight)));
      tr.appendChild(el('td', 'addr', r.mac + (r.mac_manual ? ' (set)' : '')));
      var h = el('td', 'health');
      h.appendChild(el('span', 'badge ' + r.health, r.health));
      if (!r.weight) h.appendChild(el('span', 'badge inactive', 'inactive'));
      if (r.sorry) h.appendChild(el('span', 'badge sorry', 'sorry'));
      tr.appendChild(h);
      tr.appendChild(el('td', 'num', r.flows === undefined ? '-' : String(r.flows)));
      var rr = lastRate('r:' + s.vip + '|' + r.address);
      tr.appendChild(el('td', 'num', rr ? si(rr.p) : '-'));
      tr.appendChild(el('td', 'num', rr ? si(rr.b, 'B') : '-'));
      var acts = el('td', 'acts admin');
      if (r.weight) {
        acts.appendChild(button('Deactivate', 'small warn act', function () { activate(s, r, false); }));
      } else {
        var back = inactive[s.vip + '|' + r.address];
        var b = button('Activate', 'small go act', function () { activate(s, r, true); });
        b.title = 'weight ' + (back || 1) + ' again';
        acts.appendChild(b);
      }
      acts.appendChild(button('Edit', 'small ghost', function () {
        go('#/real/' + encodeURIComponent(s.vip) + '|' + encodeURIComponent(r.address));
      }));
      acts.appendChild(button('Delete', 'small danger', function () { deleteReal(s, r); }));
      tr.appendChild(acts);
      tb.appendChild(tr);
    });
    t.appendChild(tb);
    return t;
  }

  function applied(res, what) {
    if (res.ok) {
      toast(what);
      poll();
      return true;
    }
    toast(errorText(res), true);
    return false;
  }

  function activate(s, r, on) {
    change([(on ? 'activate' : 'deactivate') + ' --vip ' + s.vip + ' ' + r.address]).then(function (res) {
      applied(res, (on ? 'Activated ' : 'Deactivated ') + r.address);
    });
  }

  function deleteService(s) {
    if (!window.confirm('Delete virtual service ' + s.vip + ' and its ' + s.reals.length +
      ' real(s)? Its tracked flows end.')) return;
    change(['del-vip ' + s.vip]).then(function (res) { applied(res, 'Deleted ' + s.vip); });
  }

  function deleteReal(s, r) {
    if (!window.confirm('Delete real ' + r.address + ' from ' + s.vip + '? Its tracked flows end.')) return;
    change(['del-real --vip ' + s.vip + ' ' + r.address]).then(function (res) {
      applied(res, 'Deleted ' + r.address);
    });
  }

  // ---------------------------------------------------------------- forms

  function findService(vip) {
    if (!status) return null;
    for (var i = 0; i < status.services.length; i++)
      if (status.services[i].vip === vip) return status.services[i];
    return null;
  }

  function clearErrors(form) {
    Array.prototype.forEach.call(form.querySelectorAll('.field-error'), function (e) { e.textContent = ''; });
    Array.prototype.forEach.call(form.querySelectorAll('label.bad'), function (l) { l.classList.remove('bad'); });
  }

  function fieldError(id, msg) {
    var e = document.querySelector('.field-error[data-for="' + id + '"]');
    if (!e) return false;
    e.textContent = msg;
    e.parentNode.classList.add('bad');
    return true;
  }

  function isIPv4(s) {
    var m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
    return !!m && m.slice(1).every(function (x) { return +x <= 255; });
  }

  function isIPv6(s) {
    if (!/^[0-9a-fA-F:.]+$/.test(s) || s.indexOf(':') < 0) return false;
    var parts = s.split('::');
    if (parts.length > 2) return false;
    var groups = [].concat.apply([], parts.map(function (p) { return p ? p.split(':') : []; }));
    if (groups.length && isIPv4(groups[groups.length - 1])) groups.splice(-1, 1, '0', '0');
    if (!groups.every(function (g) { return /^[0-9a-fA-F]{1,4}$/.test(g); })) return false;
    return parts.length === 2 ? groups.length < 8 : groups.length === 8;
  }

  function uint(s, lo, hi) {
    if (!/^\d+$/.test(s)) return null;
    var v = parseInt(s, 10);
    return v >= lo && v <= hi ? v : null;
  }

  function secs(s) {
    if (!/^\d+(\.\d+)?$/.test(s)) return null;
    var v = parseFloat(s);
    return v >= 0.01 && v <= 3600 ? v : null;
  }

  function isPrime(n) {
    if (n < 2) return false;
    for (var d = 2; d * d <= n; d++) if (n % d === 0) return false;
    return true;
  }

  var MAC_RE = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

  function vipOf(addr, port, proto) {
    return (addr.indexOf(':') >= 0 ? '[' + addr + ']' : addr) + ':' + port + '/' + proto;
  }

  // A server error, shown at the field it names (rules: message -> field).
  function serverError(res, rules, fallback) {
    var msg = errorText(res), line = res.data && res.data.line, i;
    for (i = 0; i < rules.length; i++) {
      var r = rules[i];
      if ((r.line === undefined || r.line === line) && r.re.test(msg) && fieldError(r.id, msg)) return;
    }
    $(fallback).textContent = msg;
  }

  // ---------------------------------------------------------------- service form

  var editing = null;   // the service being edited, or null

  function checkFields() {
    var c = $('svc-check').value;
    Array.prototype.forEach.call(document.querySelectorAll('#service-form .for-http'), function (e) {
      e.hidden = c !== 'http';
    });
    Array.prototype.forEach.call(document.querySelectorAll('#service-form .for-check'), function (e) {
      e.hidden = c === 'none';
    });
    $('svc-ops').disabled = $('svc-proto').value !== 'udp';
  }

  function sorryOf(s) {
    var x = s ? s.reals.filter(function (r) { return r.sorry; }) : [];
    return x.length === 1 ? x[0] : null;
  }

  function serviceForm(vip) {
    var s = vip ? findService(vip) : null;
    if (vip && !s) {
      if (!status) { show('overview'); return; }   // the first poll comes
      toast('no service ' + vip, true);
      go('#/');
      return;
    }
    editing = s;
    show('service');
    var f = $('service-form');
    f.reset();
    clearErrors(f);
    $('service-error').textContent = '';
    $('service-title').textContent = s ? 'Edit ' + s.vip : 'Add a virtual service';
    ['svc-address', 'svc-port', 'svc-proto'].forEach(function (id) {
      $(id).readOnly = !!s;
      $(id).disabled = false;
    });
    var exec = $('svc-check').querySelector('option[value="exec"]');
    exec.disabled = true;
    if (s) {
      $('svc-address').value = s.address;
      $('svc-port').value = s.port;
      $('svc-proto').value = s.protocol;
      $('svc-proto').disabled = true;
      $('svc-hash').value = s.hash;
      $('svc-ops').checked = s.ops;
      $('svc-table').value = s.table_size === status.table_size ? '' : s.table_size;
      var c = s.check.split(':')[0];
      if (c === 'exec') exec.disabled = false;
      $('svc-check').value = c;
      if (c === 'http') {
        var m = /^http:(\/[^:]*)(?::(\d+))?$/.exec(s.check);
        $('svc-path').value = m ? m[1] : '';
        $('svc-status').value = m && m[2] ? m[2] : '';
      }
      if (c !== 'none') {
        $('svc-interval').value = s.interval;
        $('svc-timeout').value = s.timeout;
        $('svc-rise').value = s.rise;
        $('svc-fall').value = s.fall;
      }
      $('svc-quorum').value = s.quorum === 1 ? '' : s.quorum;
      var sr = sorryOf(s);
      $('svc-sorry').value = sr ? sr.address : '';
      $('svc-sorry-mac').value = sr && sr.mac_manual ? sr.mac : '';
      $('svc-sorry').disabled = s.reals.some(function (r) { return r.sorry; }) && !sr;
    }
    checkFields();
    (s ? $('svc-hash') : $('svc-address')).focus();
  }

  function serviceSubmit(e) {
    e.preventDefault();
    var f = $('service-form');
    clearErrors(f);
    $('service-error').textContent = '';
    var s = editing, bad = false, v;
    function no(id, msg) { fieldError(id, msg); bad = true; }
    var addr = $('svc-address').value.trim();
    var proto = $('svc-proto').value;
    if (!isIPv4(addr) && !isIPv6(addr)) no('svc-address', 'an IPv4 or IPv6 address');
    var port = uint($('svc-port').value.trim(), 0, 65535);
    if (port === null) no('svc-port', 'a port, 0..65535 (0: every port)');
    var opts = ['--hash', $('svc-hash').value];
    if ($('svc-ops').checked && proto === 'udp') opts.push('--ops');
    else if (s) opts.push('--no-ops');
    var table = $('svc-table').value.trim();
    if (table) {
      v = uint(table, 7, 1048573);
      if (v === null || !isPrime(v)) no('svc-table', 'a prime in 7..1048573, or empty for the default');
      else opts.push('--table-size', String(v));
    } else if (s) {
      opts.push('--table-size', String(status.table_size));
    }
    var check = $('svc-check').value;
    var keepExec = check === 'exec';
    if (check === 'http') {
      var path = $('svc-path').value.trim() || '/';
      if (path[0] !== '/' || /\s/.test(path)) no('svc-path', 'a path from /, without spaces');
      var st = $('svc-status').value.trim();
      if (st && uint(st, 100, 599) === null) no('svc-status', 'an HTTP status, 100..599');
      opts.push('--check', 'http:' + path + (st ? ':' + st : ''));
    } else if (!keepExec) {
      opts.push('--check', check);
    }
    if (check !== 'none') {
      [['svc-interval', '--interval'], ['svc-timeout', '--timeout']].forEach(function (x) {
        var t = $(x[0]).value.trim();
        if (!t) return;
        if (secs(t) === null) no(x[0], 'seconds, 0.01..3600');
        else opts.push(x[1], t);
      });
      [['svc-rise', '--rise'], ['svc-fall', '--fall']].forEach(function (x) {
        var t = $(x[0]).value.trim();
        if (!t) return;
        if (uint(t, 1, 1000) === null) no(x[0], 'a count, 1..1000');
        else opts.push(x[1], t);
      });
    }
    var q = $('svc-quorum').value.trim();
    if (q && uint(q, 1, 16384) === null) no('svc-quorum', 'a number of reals, 1..16384');
    opts.push('--quorum', q || '1');
    var sorry = $('svc-sorry').value.trim(), smac = $('svc-sorry-mac').value.trim();
    if (sorry && !isIPv4(sorry) && !isIPv6(sorry)) no('svc-sorry', 'an IPv4 or IPv6 address, or empty');
    if (sorry && (isIPv6(sorry) !== isIPv6(addr))) no('svc-sorry', 'an address of the VIP\'s family');
    if (smac && !MAC_RE.test(smac)) no('svc-sorry-mac', 'xx:xx:xx:xx:xx:xx, or empty to resolve it');
    if (bad) return;
    var vip = s ? s.vip : vipOf(addr, port, proto);
    var lines = [(s ? 'set-vip ' : 'add-vip ') + vip + ' ' + opts.join(' ')];
    var old = sorryOf(s);
    var sorryLine = 0;
    if (old && (old.address !== sorry || (old.mac_manual ? old.mac : '') !== smac))
      lines.push('del-real --vip ' + vip + ' ' + old.address);
    if (sorry && !(old && old.address === sorry && (old.mac_manual ? old.mac : '') === smac)) {
      var w = old && old.address === sorry ? old.weight : 1;
      lines.push('add-real --vip ' + vip + ' ' + sorry + ' --weight ' + w + ' --sorry' +
        (smac ? ' --mac ' + smac : ''));
      sorryLine = lines.length;
    }
    $('service-submit').disabled = true;
    change(lines).then(function (res) {
      $('service-submit').disabled = false;
      if (!res.ok) {
        serviceError(res, sorryLine);
        return;
      }
      toast((s ? 'Changed ' : 'Added ') + vip);
      poll();
      go('#/');
    });
  }

  function serviceError(res, sorryLine) {
    serverError(res, [
      { line: sorryLine || -1, re: /MAC/, id: 'svc-sorry-mac' },
      { line: sorryLine || -1, re: /./, id: 'svc-sorry' },
      { re: /exec/, id: 'svc-check' },
      { re: /table size/, id: 'svc-table' },
      { re: /--ops/, id: 'svc-ops' },
      { re: /http check|path/, id: 'svc-path' },
      { re: /STATUS|status/, id: 'svc-status' },
      { re: /timeout/, id: 'svc-timeout' },
      { re: /interval/, id: 'svc-interval' },
      { re: /\brise\b/, id: 'svc-rise' },
      { re: /\bfall\b/, id: 'svc-fall' },
      { re: /quorum/, id: 'svc-quorum' },
      { re: /check/, id: 'svc-check' },
      { re: /hash/, id: 'svc-hash' },
      { re: /port/, id: 'svc-port' },
      { re: /VIP|address/, id: 'svc-address' },
    ], 'service-error');
  }

  // ---------------------------------------------------------------- real form

  var realOf = null;   // {svc, real (null: new)}

  function realForm(vip, addr) {
    var s = findService(vip), r = null;
    if (!s) {
      if (!status) { show('overview'); return; }
      toast('no service ' + vip, true);
      go('#/');
      return;
    }
    if (addr) {
      r = s.reals.filter(function (x) { return x.address === addr; })[0];
      if (!r) { toast('no real ' + addr + ' in ' + vip, true); go('#/'); return; }
    }
    realOf = { svc: s, real: r };
    show('real');
    var f = $('real-form');
    f.reset();
    clearErrors(f);
    $('real-error').textContent = '';
    $('real-title').textContent = r ? 'Edit real ' + r.address : 'Add a real server';
    $('real-vip').textContent = 'Virtual service ' + s.vip;
    $('real-address').readOnly = !!r;
    Array.prototype.forEach.call(f.querySelectorAll('.new-only'), function (e) { e.hidden = !!r; });
    if (r) {
      $('real-address').value = r.address;
      $('real-weight').value = r.weight || inactive[s.vip + '|' + r.address] || 0;
      $('real-mac').value = r.mac_manual ? r.mac : '';
      $('real-sorry').checked = r.sorry;
    }
    (r ? $('real-weight') : $('real-address')).focus();
  }

  function realSubmit(e) {
    e.preventDefault();
    var f = $('real-form'), s = realOf.svc, r = realOf.real, bad = false;
    function no(id, msg) { fieldError(id, msg); bad = true; }
    clearErrors(f);
    $('real-error').textContent = '';
    var addr = $('real-address').value.trim();
    if (!isIPv4(addr) && !isIPv6(addr)) no('real-address', 'an IPv4 or IPv6 address');
    else if (isIPv6(addr) !== (s.address.indexOf(':') >= 0)) no('real-address', 'an address of the VIP\'s family');
    var w = uint($('real-weight').value.trim(), 0, 65535);
    if (w === null) no('real-weight', 'a weight, 0..65535 (0: no new flows)');
    var mac = $('real-mac').value.trim();
    if (mac && !MAC_RE.test(mac)) no('real-mac', 'xx:xx:xx:xx:xx:xx, or empty to resolve it');
    if (bad) return;
    var add = 'add-real --vip ' + s.vip + ' ' + addr + ' --weight ' + w +
      (mac ? ' --mac ' + mac : '') + ($('real-sorry').checked ? ' --sorry' : '');
    // An edit is the real removed and added again in one change: the
    // server sees one real changed in place (its flows stay).
    var lines = r ? ['del-real --vip ' + s.vip + ' ' + r.address, add] : [add];
    if (!r && !$('real-active').checked && w) lines.push('deactivate --vip ' + s.vip + ' ' + addr);
    $('real-submit').disabled = true;
    change(lines).then(function (res) {
      $('real-submit').disabled = false;
      if (!res.ok) {
        serverError(res, [
          { re: /weight/, id: 'real-weight' },
          { re: /MAC/, id: 'real-mac' },
          { re: /real|address|segment|resolve/, id: 'real-address' },
        ], 'real-error');
        return;
      }
      toast((r ? 'Changed ' : 'Added ') + addr);
      poll();
      go('#/');
    });
  }

  // ---------------------------------------------------------------- events

  function pollEvents() {
    api('GET', '/api/v1/events').then(function (res) {
      if (!res.ok) return;
      events = res.data.events;
      renderEvents();
    });
  }

  function renderEvents() {
    var tb = $('events-body');
    tb.textContent = '';
    events.slice().reverse().forEach(function (e) {
      var tr = el('tr');
      tr.appendChild(el('td', null, new Date(e.time).toLocaleString()));
      var k = el('td');
      k.appendChild(el('span', 'badge ' + e.kind, e.kind));
      tr.appendChild(k);
      tr.appendChild(el('td', null, e.user || 'daemon'));
      tr.appendChild(el('td', 'wrap', e.text));
      tb.appendChild(tr);
    });
    if (!events.length) {
      var tr0 = el('tr'), td0 = el('td', 'muted', 'Nothing yet.');
      td0.colSpan = 4;
      tr0.appendChild(td0);
      tb.appendChild(tr0);
    }
  }

  // ---------------------------------------------------------------- start

  function start() {
    $('login-form').addEventListener('submit', login);
    $('logout').addEventListener('click', logout);
    $('add-service').addEventListener('click', function () { go('#/service/new'); });
    $('service-form').addEventListener('submit', serviceSubmit);
    $('real-form').addEventListener('submit', realSubmit);
    $('svc-check').addEventListener('change', checkFields);
    $('svc-proto').addEventListener('change', checkFields);
    window.addEventListener('hashchange', route);
    window.addEventListener('resize', function () { if (!$('view-overview').hidden) renderOverview(); });
    setInterval(function () {
      if (session && lastOk && Date.now() - lastOk > 3 * POLL_MS) {
        $('live').className = 'live stale';
        $('live').textContent = 'stale since ' + new Date(lastOk).toLocaleTimeString();
      }
    }, 1000);
    // Already logged in (a reload)? The session says who, and its token.
    api('GET', '/api/v1/session').then(function (res) {
      if (res.ok) loggedIn(res.data);
      else route();
    }).catch(function () { route(); });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
}());
