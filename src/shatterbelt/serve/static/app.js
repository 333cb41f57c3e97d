/* shatterbelt dashboard: talks to the server's REST API only; nothing is fetched from elsewhere. */
(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };
  var state = { scenarios: [], caps: {}, levers: [], job: null, baseline: null, timer: null, map: null, mapTimer: null };

  // ------------------------------------------------------------------ token
  (function () {
    var m = /(?:^#|&)token=([^&]+)/.exec(location.hash || '');
    if (m) { sessionStorage.setItem('sb-token', decodeURIComponent(m[1])); history.replaceState(null, '', location.pathname); }
  })();
  function token() { return sessionStorage.getItem('sb-token') || ''; }
  function headers(extra) {
    var h = extra || {}; var t = token();
    if (t) h['Authorization'] = 'Bearer ' + t;
    return h;
  }
  function api(method, path, body) {
    var opts = { method: method, headers: headers(body ? { 'Content-Type': 'application/json' } : {}) };
    if (body) opts.body = JSON.stringify(body);
    return fetch(path, opts).then(function (r) {
      if (r.status === 401) { $('token-box').hidden = false; }
      var ct = r.headers.get('content-type') || '';
      var p = ct.indexOf('application/json') >= 0 ? r.json() : r.text();
      return p.then(function (d) {
        if (!r.ok) { var e = new Error((d && d.error) || ('HTTP ' + r.status)); e.status = r.status; throw e; }
        return d;
      });
    });
  }
  $('token-save').addEventListener('click', function () {
    sessionStorage.setItem('sb-token', $('token').value.trim()); $('token-box').hidden = true; init();
  });

  function showError(msg) { $('error').textContent = msg || ''; }
  function fmt(v) {
    if (v === null || v === undefined || !isFinite(v)) return 'n/a';
    var a = Math.abs(v);
    if (a >= 1e6) return (v / 1e6).toFixed(2) + ' M';
    if (a >= 100) return Math.round(v).toLocaleString('en');
    if (a >= 10) return v.toFixed(1);
    if (a === 0) return '0';
    return v.toFixed(2);
  }
  function esc(s) { return String(s).replace(/[&<>"']/g, function (c) { return '&#' + c.charCodeAt(0) + ';'; }); }

  // ------------------------------------------------------------------ scenarios and levers
  function currentScenario() {
    var name = $('scenario').value;
    for (var i = 0; i < state.scenarios.length; i++) if (state.scenarios[i].name === name) return state.scenarios[i];
    return null;
  }
  function renderScenarios() {
    var sel = $('scenario'); sel.innerHTML = '';
    var groups = { scenario: 'Scenarios', variant: 'Variants (regime, government, withdrawal, patrons ...)' };
    Object.keys(groups).forEach(function (kind) {
      var og = document.createElement('optgroup'); og.label = groups[kind];
      state.scenarios.filter(function (s) { return s.kind === kind; }).forEach(function (s) {
        var o = document.createElement('option'); o.value = s.name; o.textContent = s.name; og.appendChild(o);
      });
      if (og.children.length) sel.appendChild(og);
    });
    sel.value = 'iraq-2010';
    onScenario();
  }
  function onScenario() {
    var sc = currentScenario(); if (!sc) return;
    $('scenario-desc').textContent = sc.description + ' (' + sc.start + ' to ' + sc.horizon + ')';
    $('until').min = sc.start; $('until').max = sc.horizon;
    var months = state.caps.max_months || sc.months;
    var y = +sc.start.slice(0, 4), m = +sc.start.slice(5, 7) - 1 + Math.min(months, sc.months) - 1;
    var last = (y + Math.floor(m / 12)) + '-' + ('0' + (m % 12 + 1)).slice(-2);
    if (!$('until').value || $('until').value > last || $('until').value < sc.start) $('until').value = last < sc.horizon ? last : sc.horizon;
    state.levers = sc.levers;
    renderLevers();
    renderWithdrawal(sc);
  }
  function renderWithdrawal(sc) {
    var w = sc.withdrawal;
    $('withdrawal').hidden = !w; $('wd-on').checked = false;
    if (!w) return;
    $('wd-force').textContent = w.force.replace(/_/g, ' ');
    $('wd-month').min = sc.start; $('wd-month').max = sc.horizon; $('wd-month').value = w.month;
    $('wd-residual').value = w.residual; $('wd-residual-range').value = w.residual;
    $('wd-source').textContent = 'timeline: ' + w.month + ', ' + fmt(w.residual) + ' troops left (' + w.source + ')';
  }
  $('wd-residual-range').addEventListener('input', function () { $('wd-residual').value = this.value; $('wd-on').checked = true; });
  $('wd-residual').addEventListener('input', function () { $('wd-residual-range').value = this.value; $('wd-on').checked = true; });
  $('wd-month').addEventListener('input', function () { $('wd-on').checked = true; });
  function withdrawalValue() {
    if ($('withdrawal').hidden || !$('wd-on').checked || !$('wd-month').value) return null;
    return { month: $('wd-month').value, residual: +$('wd-residual').value };
  }
  function leverRow(lv) {
    var div = document.createElement('div'); div.className = 'lever'; div.setAttribute('data-path', lv.path);
    var lo = lv.range[0], hi = lv.range[1];
    var span = hi - lo, slo = lo, shi = hi;
    if (span <= 0) { slo = lv.value === 0 ? 0 : lv.value * 0.5; shi = lv.value === 0 ? 1 : lv.value * 1.5; }
    var step = lv.integer ? 1 : Math.pow(10, Math.floor(Math.log10((shi - slo) / 100 || 0.01)));
    div.innerHTML = '<div class="head"><b>' + esc(lv.label) + '</b><span>range ' + fmt(lo) + ' to ' + fmt(hi) + '</span></div>' +
      '<input type="range" min="' + slo + '" max="' + shi + '" step="' + step + '" value="' + lv.value + '" aria-label="' + esc(lv.path) + '" data-path="' + esc(lv.path) + '">' +
      '<div class="head"><input type="number" step="any" value="' + lv.value + '" aria-label="' + esc(lv.path) + ' value">' +
      '<code class="note">' + esc(lv.path) + '</code></div>' +
      '<div class="src" title="' + esc(lv.source) + '">' + (lv.source.toLowerCase().indexOf(lv.kind) === 0 ? '' : esc(lv.kind) + ': ') + esc(lv.source) + '</div>';
    var range = div.querySelector('input[type=range]'), num = div.querySelector('input[type=number]');
    function mark() {
      var v = +num.value;
      div.classList.toggle('changed', v !== lv.value);
      div.classList.toggle('outside', v < lo || v > hi);
    }
    range.addEventListener('input', function () { num.value = range.value; mark(); });
    num.addEventListener('input', function () { range.value = num.value; mark(); });
    return div;
  }
  function renderLevers() {
    var box = $('levers'); box.innerHTML = ''; var group = null;
    state.levers.forEach(function (lv) {
      if (lv.group !== group) { group = lv.group; var g = document.createElement('div'); g.className = 'group'; g.textContent = group; box.appendChild(g); }
      box.appendChild(leverRow(lv));
    });
  }
  function leverValues() {
    var out = {};
    state.levers.forEach(function (lv) {
      var row = document.querySelector('.lever[data-path="' + lv.path + '"] input[type=number]');
      if (!row) return;
      var v = +row.value;
      if (isFinite(v) && v !== lv.value) out[lv.path] = v;
    });
    return out;
  }
  $('scenario').addEventListener('change', onScenario);
  $('reset').addEventListener('click', function () { renderLevers(); var sc = currentScenario(); if (sc) renderWithdrawal(sc); });

  // ------------------------------------------------------------------ jobs
  function request(levers, withdrawal) {
    var until = $('until').value || null;
    var body = { scenario: $('scenario').value, scale: +$('scale').value, until: until, runs: +$('runs').value,
                 seed: +$('seed').value, levers: levers };
    if (withdrawal) body.withdrawal = withdrawal;
    return body;
  }
  function setBusy(busy) { $('run').disabled = busy; $('cancel').disabled = !busy; }
  function run() {
    showError(''); stopPolling();
    var levers = leverValues(), wd = withdrawalValue();
    var wantBase = $('with-baseline').checked && (Object.keys(levers).length > 0 || wd !== null);
    setBusy(true); $('status').textContent = 'submitting...';
    api('POST', '/api/jobs', request(levers, wd)).then(function (j) {
      state.job = j.id; state.baseline = null;
      if (j.notes && j.notes.length) showError('note: ' + j.notes.join('\n'));
      if (!wantBase) return null;
      return api('POST', '/api/jobs', request({}, null)).then(function (b) { state.baseline = b.id; });
    }).then(function () { poll(); }).catch(function (e) { setBusy(false); $('status').textContent = 'refused'; showError(e.message); });
  }
  function stopPolling() { if (state.timer) { clearTimeout(state.timer); state.timer = null; } }
  function poll() {
    var ids = [state.job].concat(state.baseline ? [state.baseline] : []);
    Promise.all(ids.map(function (id) { return api('GET', '/api/jobs/' + id); })).then(function (js) {
      var p = js.reduce(function (a, j) { return a + (j.status === 'done' ? 1 : j.progress); }, 0) / js.length;
      $('progress-bar').style.width = (100 * p).toFixed(1) + '%';
      var main = js[0];
      $('status').textContent = 'job ' + main.id.slice(0, 8) + ': ' + main.status + (main.month ? ' (' + main.month + ')' : '') +
        (js[1] ? '; baseline: ' + js[1].status : '') + ' - ' + Math.round(100 * p) + '%';
      $('status').setAttribute('data-status', main.status);
      var bad = js.filter(function (j) { return ['failed', 'cancelled', 'interrupted'].indexOf(j.status) >= 0; });
      if (bad.length) { setBusy(false); showError(bad.map(function (j) { return j.id.slice(0, 8) + ': ' + j.status + (j.error ? ': ' + j.error : ''); }).join('\n')); refreshJobs(); return; }
      if (js.every(function (j) { return j.status === 'done'; })) { setBusy(false); refreshJobs(); showJob(state.job, state.baseline); return; }
      state.timer = setTimeout(poll, 400);
    }).catch(function (e) { setBusy(false); showError(e.message); });
  }
  $('run').addEventListener('click', run);
  $('cancel').addEventListener('click', function () {
    stopPolling();
    var ids = [state.job].concat(state.baseline ? [state.baseline] : []);
    Promise.all(ids.map(function (id) { return api('DELETE', '/api/jobs/' + id); })).then(function () { setBusy(false); $('status').textContent = 'cancelled'; refreshJobs(); });
  });

  function refreshJobs() {
    api('GET', '/api/jobs?limit=12').then(function (d) {
      var tb = document.querySelector('#jobs tbody'); tb.innerHTML = '';
      d.jobs.forEach(function (j) {
        var tr = document.createElement('tr');
        var lev = Object.keys(j.request.levers || {}).length + (j.request.withdrawal ? 1 : 0);
        tr.innerHTML = '<td><code>' + j.id.slice(0, 8) + '</code></td><td>' + esc(j.request.scenario) + (lev ? ' (' + lev + ' levers)' : '') +
          '</td><td>' + esc(j.status) + '</td>';
        if (j.status === 'done') tr.addEventListener('click', function () { state.job = j.id; state.baseline = null; showJob(j.id, null); });
        tb.appendChild(tr);
      });
    }).catch(function () {});
  }

  // ------------------------------------------------------------------ results
  function showJob(id, baseline) {
    api('GET', '/api/jobs/' + id + '/figures').then(function (f) {
      $('empty').hidden = true;
      $('key-section').hidden = false; $('key').innerHTML = f.key_html;
      $('job-label').textContent = 'job ' + id;
      var link = $('report-link'); link.href = '/api/jobs/' + id + '/report';
      link.onclick = token() ? function (ev) {
        ev.preventDefault();
        api('GET', link.getAttribute('href')).then(function (html) {
          window.open(URL.createObjectURL(new Blob([html], { type: 'text/html' })), '_blank');
        });
      } : null;
      drawMap(f.map);
      $('charts-section').hidden = false;
      $('charts').innerHTML = f.charts.map(function (c) { return '<div class="fig" data-chart="' + esc(c.id) + '">' + c.svg + '</div>'; }).join('');
      $('charts').setAttribute('data-job', id);
      return showCompare(id, baseline);
    }).catch(function (e) { showError(e.message); });
  }
  function showCompare(id, baseline) {
    var q = baseline ? '?baseline=' + baseline : '';
    return api('GET', '/api/jobs/' + id + '/compare' + q).then(function (c) {
      $('compare-section').hidden = false;
      $('compare-note').textContent = 'baseline: job ' + c.baseline.slice(0, 8) + ' (the same request without levers). Lines: both; the bars: change of the mean, % of the baseline.';
      var tb = document.querySelector('#effects tbody');
      tb.innerHTML = c.effects.map(function (e) {
        var cls = e.effect > 0 ? 'up' : (e.effect < 0 ? 'down' : '');
        var pct = e.percent === null ? '' : ' (' + (e.percent > 0 ? '+' : '') + e.percent.toFixed(1) + '%)';
        return '<tr><td>' + esc(e.label) + '</td><td class="n">' + fmt(e.mean_a) + '</td><td class="n">' + fmt(e.mean_b) +
          '</td><td class="n ' + cls + '">' + (e.effect > 0 ? '+' : '') + fmt(e.effect) + pct + '</td><td class="n">' +
          (e.pairs > 1 ? fmt(e.lo) + ' to ' + fmt(e.hi) : 'one run') + '</td></tr>';
      }).join('');
      $('bars').innerHTML = c.bars_svg || '';
      $('compare-charts').innerHTML = c.charts.slice(0, 4).map(function (x) { return '<div class="fig">' + x.svg + '</div>'; }).join('');
    }).catch(function (e) {
      $('compare-section').hidden = true;
      if (e.status !== 404) showError(e.message);
    });
  }

  // the map: the report's SVG, recoloured from the classes the server sends (as the report's script does)
  function drawMap(M) {
    if (state.mapTimer) { clearInterval(state.mapTimer); state.mapTimer = null; $('play').textContent = 'Play'; }
    state.map = M;
    if (!M) { $('map-section').hidden = true; return; }
    $('map-section').hidden = false;
    $('map').innerHTML = M.svg;
    $('layers').innerHTML = M.layers.map(function (L, k) {
      return '<button type="button" data-layer="' + k + '" aria-pressed="' + (k === 0) + '">' + esc(L.button) + '</button>';
    }).join('');
    var slider = $('month'); slider.max = M.months.length - 1; slider.value = M.months.length - 1;
    var st = { layer: 0, t: M.months.length - 1 };
    var svg = document.querySelector('#map svg[data-map]');
    var paths = svg.querySelectorAll('path[data-region]'), cap = svg.querySelector('[data-role=map-caption]');
    function draw() {
      var L = M.layers[st.layer];
      for (var r = 0; r < paths.length; r++) {
        var c = L.cls[st.t][r]; paths[r].setAttribute('fill', c >= 0 ? L.colors[c] : '#ffffff');
        var ti = paths[r].querySelector('title'); if (ti) ti.textContent = M.names[r] + ': ' + L.text[st.t][r];
      }
      svg.querySelectorAll('[data-legend]').forEach(function (g) { g.style.display = (+g.getAttribute('data-legend') === st.layer) ? 'inline' : 'none'; });
      if (cap) cap.textContent = L.title + ', ' + M.months[st.t];
      $('month-label').textContent = M.months[st.t]; slider.value = st.t;
      svg.setAttribute('data-month', M.months[st.t]);
      document.querySelectorAll('#layers [data-layer]').forEach(function (b) { b.setAttribute('aria-pressed', +b.getAttribute('data-layer') === st.layer ? 'true' : 'false'); });
    }
    document.querySelectorAll('#layers [data-layer]').forEach(function (b) {
      b.addEventListener('click', function () { st.layer = +b.getAttribute('data-layer'); draw(); });
    });
    slider.oninput = function () { st.t = +slider.value; draw(); };
    $('play').onclick = function () {
      if (state.mapTimer) { clearInterval(state.mapTimer); state.mapTimer = null; this.textContent = 'Play'; return; }
      this.textContent = 'Pause'; if (st.t >= M.months.length - 1) st.t = 0;
      state.mapTimer = setInterval(function () {
        if (st.t >= M.months.length - 1) { clearInterval(state.mapTimer); state.mapTimer = null; $('play').textContent = 'Play'; return; }
        st.t++; draw();
      }, 350);
    };
    draw();
  }

  // ------------------------------------------------------------------ start
  function init() {
    api('GET', '/api/health').then(function (h) {
      $('health').textContent = 'server ' + h.version + ', ' + h.workers + ' workers'; $('health').className = 'health';
      state.caps = h.caps;
      $('caps').textContent = 'caps: scale up to ' + h.caps.max_scale + ', ' + h.caps.max_runs + ' runs, ' + h.caps.max_months + ' months, ' + h.caps.max_jobs + ' jobs at once';
      $('scale').max = h.caps.max_scale; $('runs').max = h.caps.max_runs;
      if (+$('scale').value > h.caps.max_scale) $('scale').value = h.caps.max_scale;
      return api('GET', '/api/scenarios');
    }).then(function (d) {
      state.scenarios = d.scenarios; renderScenarios(); refreshJobs();
      document.body.setAttribute('data-ready', '1');
    }).catch(function (e) { $('health').textContent = 'not connected: ' + e.message; $('health').className = 'health bad'; });
  }
  init();
})();
