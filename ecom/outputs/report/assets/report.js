/* ecom report: draws the pages described in #report-data (see ecom/outputs/report/layout.py).
 * Every figure sums the embedded rows that the date range and the page's filters select, and
 * computes ratios from those sums (a ratio of sums; NULL, shown as "—", when the denominator is 0).
 * Charts use the vendored Chart.js (window.Chart). No network. */
(function () {
  'use strict';
  var R = JSON.parse(document.getElementById('report-data').textContent);
  var status = { errors: [], charts: 0, ready: false };
  window.reportStatus = status;
  window.addEventListener('error', function (e) { status.errors.push(String(e.message)); });

  var DASH = '\u2014';
  var COLORS = ['#4C78A8', '#F58518', '#E45756', '#54A24B', '#B279A2', '#72B7B2', '#EECA3B', '#9D755D', '#BAB0AC'];
  var DAY = 86400000;

  // ------------------------------------------------------------------ data
  var data = {};
  Object.keys(R.datasets).forEach(function (name) {
    var d = R.datasets[name], rows = new Array(d.n), cols = Object.keys(d.columns);
    for (var i = 0; i < d.n; i++) rows[i] = {};
    cols.forEach(function (c) {
      var col = d.columns[c], i = 0;
      if (col.runs) {  // sorted values: each level repeated runs[k] times
        col.runs.forEach(function (n, k) { for (var j = 0; j < n; j++) rows[i++][c] = col.levels[k]; });
        return;
      }
      for (i = 0; i < d.n; i++) {
        rows[i][c] = Array.isArray(col) ? col[i] : (col.codes[i] < 0 ? null : col.levels[col.codes[i]]);
      }
    });
    data[name] = { rows: rows, date: d.date, grain: d.grain, dailySince: d.daily_since, period: d.period, columns: cols };
  });

  function iso(t) { return new Date(t).toISOString().slice(0, 10); }
  function ms(s) { return Date.parse(s + 'T00:00:00Z'); }
  function addDays(s, n) { return iso(ms(s) + n * DAY); }
  function monthStart(s) { return s.slice(0, 8) + '01'; }
  function days(a, b) { return Math.round((ms(b) - ms(a)) / DAY) + 1; }

  var asOf = R.as_of;
  var firstDate = asOf;
  Object.keys(data).forEach(function (n) {
    var d = data[n];
    if (!d.date) return;
    d.rows.forEach(function (r) { if (r[d.date] && r[d.date] < firstDate) firstDate = r[d.date]; });
  });

  // ------------------------------------------------------------------ state
  var state = { start: addDays(asOf, -29), end: asOf, filters: {} };

  function previous(range) {
    var n = days(range.start, range.end);
    return { start: addDays(range.start, -n), end: addDays(range.start, -1) };
  }

  function addMonths(s, n) {
    var m = +s.slice(0, 4) * 12 + (+s.slice(5, 7) - 1) + n;
    return String(Math.floor(m / 12)).padStart(4, '0') + '-' + String(m % 12 + 1).padStart(2, '0') + '-01';
  }

  // the comparison period of a dataset: as many whole months before when it is monthly
  function previousFor(d, range) {
    if (d.grain !== 'month') return previous(range);
    var first = monthStart(range.start), n = 0;
    while (addMonths(first, n) <= range.end) n += 1;
    return { start: addMonths(first, -n), end: addDays(first, -1) };
  }

  // whether a row of the dataset sums a whole month (dated its first day) rather than a day
  function monthly(d, date) { return d.grain === 'month' || (d.dailySince !== null && date < d.dailySince); }

  // the rows of a dataset inside `range` (null: no date selection) that pass the page's filters;
  // a monthly row is inside when its month touches the range
  function select(name, page, range) {
    var d = data[name], dated = range && d.date;
    var monthLo = dated && monthStart(range.start);
    var active = (page.filters || []).filter(function (f) { return state.filters[page.key + ':' + f.label]; });
    return d.rows.filter(function (r) {
      if (dated) {
        var v = r[d.date];
        if (v === null || v > range.end || v < (monthly(d, v) ? monthLo : range.start)) return false;
      }
      for (var i = 0; i < active.length; i++) {
        var f = active[i], want = state.filters[page.key + ':' + f.label];
        for (var j = 0; j < f.columns.length; j++) {
          var v = filterValue(r, f.columns[j]);
          if (v !== undefined && v !== want) return false;
        }
      }
      return true;
    });
  }

  // the filters of the page that cannot select rows of this dataset (it lacks their columns)
  function ignored(name, page) {
    var d = data[name];
    return (page.filters || []).filter(function (f) {
      return state.filters[page.key + ':' + f.label] && !f.columns.some(function (c) {
        return [].concat(c).every(function (k) { return d.columns.indexOf(k) >= 0; });
      });
    }).map(function (f) { return f.label.toLowerCase(); });
  }

  function measure(m, rows) {
    if (m.ratio) {
      var a = measure(m.ratio[0], rows), b = measure(m.ratio[1], rows);
      return a === null || b === null || b === 0 ? null : a / b;
    }
    var s = null, selected = 0;
    for (var i = 0; i < rows.length; i++) {
      var r = rows[i];
      if (m.if && r[m.if] === null) continue;
      if (m.eq && r[m.eq[0]] !== m.eq[1]) continue;
      selected += 1;
      var v = r[m.sum];
      if (v !== null && v !== undefined) s = (s === null ? 0 : s) + v;
    }
    // no row selected is a sum of nothing, 0 (no overstocked product, no spend that day), not
    // unknown; rows whose values are all NULL stay NULL (e.g. the spend of Organic: not applicable)
    return selected ? s : 0;
  }

  // ------------------------------------------------------------------ formats
  function money(x, digits) {
    var a = Math.abs(x), sign = x < 0 ? '-' : '';
    return sign + '$' + a.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  }
  var FORMATS = {
    money: function (x) { return money(x, Math.abs(x) < 100 ? 2 : 0); },
    money_compact: function (x) {
      var a = Math.abs(x), units = [[1e9, 'B'], [1e6, 'M'], [1e3, 'k']];
      for (var i = 0; i < units.length; i++) {
        if (a < units[i][0]) continue;
        var shown = (a / units[i][0]).toFixed(2);
        // rounded up to the next unit: 999,995 is $1.00M, not $1000.00k
        if (shown === '1000.00' && i > 0) return (x < 0 ? '-' : '') + '$1.00' + units[i - 1][1];
        return (x < 0 ? '-' : '') + '$' + shown + units[i][1];
      }
      return money(x, 0);
    },
    int: function (x) { return Math.round(x).toLocaleString('en-US'); },
    num: function (x) { return x.toLocaleString('en-US', { maximumFractionDigits: 2 }); },
    pct: function (x) { return (x * 100).toFixed(1) + '%'; },
    roas: function (x) { return x.toFixed(2) + '\u00d7'; },
    days: function (x) { var n = x.toFixed(0); return n + (n === '1' || n === '-1' ? ' day' : ' days'); },
    text: String,
    date: String,
    month: function (x) { return String(x).slice(0, 7); }
  };
  function fmt(kind, x) { return x === null || x === undefined ? DASH : FORMATS[kind](x); }

  // a redraw replaces the page's controls: give the focus back to the control that had it (same
  // data-focus), or a keyboard user is sent to the top of the document after every choice
  function keepingFocus(redraw) {
    var key = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.focus : null;
    redraw();
    var again = key && Array.from(document.querySelectorAll('[data-focus]')).find(function (e) { return e.dataset.focus === key; });
    if (again) again.focus();
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // the days or months a dated dataset's rows cover when `range` selects them
  function coverText(d, range) {
    if (d.grain === 'month') return 'months ' + monthStart(range.start).slice(0, 7) + ' to ' + range.end.slice(0, 7);
    var text = range.start + ' to ' + range.end;
    return d.dailySince && range.start < d.dailySince ? text + ' (whole months before ' + d.dailySince + ')' : text;
  }

  function periodText(name, page, range) {
    var d = data[name], text = d.date ? coverText(d, range) : d.period;
    var off = ignored(name, page);
    return text + (off.length ? ' \u00b7 not by ' + off.join(', ') : '');
  }

  function card(spec, page, range) {
    var c = el('div', 'card' + (spec.wide ? ' wide' : ''));
    c.appendChild(el('h3', '', spec.title));
    if (spec.dataset) c.appendChild(el('p', 'period', periodText(spec.dataset, page, range)));
    if (spec.note) c.appendChild(el('p', 'note', spec.note));
    return c;
  }

  // ------------------------------------------------------------------ group by
  function keyOf(r, cols) { return cols.map(function (c) { return r[c] === null ? '(none)' : r[c]; }).join(' \u00b7 '); }
  // a row's value for a filter column, or for a tuple of columns that is one key (see layout.Filter);
  // undefined when the row lacks it
  function filterValue(r, c) {
    if (!Array.isArray(c)) return r[c];
    return c.every(function (k) { return k in r; }) ? keyOf(r, c) : undefined;
  }
  function groups(rows, cols) {
    var out = new Map();
    rows.forEach(function (r) {
      var k = keyOf(r, cols);
      if (!out.has(k)) out.set(k, { key: k, first: r, rows: [] });
      out.get(k).rows.push(r);
    });
    return out;
  }
  function bucketOf(range) {
    var n = days(range.start, range.end);
    return n <= 92 ? 'day' : n <= 731 ? 'week' : 'month';
  }
  function bucket(dateStr, grain) {
    if (grain === 'month') return dateStr.slice(0, 7);
    if (grain === 'week') { var t = ms(dateStr), dow = (new Date(t).getUTCDay() + 6) % 7; return iso(t - dow * DAY); }
    return dateStr;
  }

  // ------------------------------------------------------------------ components
  function tiles(items, page, range) {
    var box = el('div', 'tiles');
    items.forEach(function (t) {
      var cur = t.last_days ? { start: addDays(range.end, 1 - t.last_days), end: range.end } : range;
      var d = data[t.dataset];
      var v = measure(t.measure, select(t.dataset, page, d.date ? cur : null));
      var div = el('div', 'tile');
      div.dataset.label = t.label;
      div.dataset.value = v === null ? '' : String(v);
      div.appendChild(el('div', 'label', t.label));
      div.appendChild(el('div', 'value', fmt(t.fmt, v)));
      if (d.date) {
        var prev = previousFor(d, cur), p = measure(t.measure, select(t.dataset, page, prev));
        div.dataset.previous = p === null ? '' : String(p);
        var change = v === null || p === null || p === 0 ? null : (v - p) / Math.abs(p);
        var cls = change === null || t.better === 0 ? 'flat' : change * t.better >= 0 ? 'good' : 'bad';
        var ch = el('div', 'change ' + cls, (change === null ? DASH : (change >= 0 ? '+' : '') + (change * 100).toFixed(1) + '%') +
          ' vs ' + fmt(t.fmt, p));
        ch.title = 'previous period: ' + prev.start + ' to ' + prev.end;
        div.appendChild(ch);
      }
      var off = ignored(t.dataset, page);
      // the range control states the range: a tile states its period when its rows cover another one
      // (its last days, whole months)
      var period = d.date ? coverText(d, cur) : d.period;
      if (!t.last_days && period === range.start + ' to ' + range.end) period = '';
      var help = period + (t.help ? ' \u00b7 ' + t.help : '') +
        (off.length ? ' \u00b7 not by ' + off.join(', ') : '');
      if (help) div.appendChild(el('div', 'help', help.replace(/^ \u00b7 /, '')));
      box.appendChild(div);
    });
    return box;
  }

  var charts = [];
  function chart(spec, page, range) {
    var c = card(spec, page, range), holder = el('div', 'chart'), canvas = el('canvas');
    canvas.setAttribute('role', 'img');  // named for a screen reader, which reads nothing drawn on a canvas
    canvas.setAttribute('aria-label', spec.title);
    holder.appendChild(canvas);
    c.appendChild(holder);
    var d = data[spec.dataset], rows = select(spec.dataset, page, d.date ? range : null);
    var labels, series;
    var xcols = Array.isArray(spec.x) ? spec.x : [spec.x];
    var byX;
    if (spec.x === '@date') {
      var grain = monthly(d, range.start) ? 'month' : bucketOf(range);
      c.querySelector('h3').textContent = spec.title + ' per ' + grain;
      byX = new Map();
      rows.forEach(function (r) {
        var k = bucket(r[d.date], grain);
        if (!byX.has(k)) byX.set(k, []);
        byX.get(k).push(r);
      });
      labels = Array.from(byX.keys()).sort();
    } else {
      var g = groups(rows, xcols);
      byX = new Map(); g.forEach(function (v, k) { byX.set(k, v.rows); });
      labels = spec.categories.length ? spec.categories.slice() : Array.from(byX.keys()).sort();
      if (spec.sort_desc) {
        var m0 = spec.series[0].measure;
        labels = labels.map(function (k) { return [k, measure(m0, byX.get(k) || [])]; })
          .filter(function (p) { return p[1] !== null; })
          .sort(function (a, b) { return b[1] - a[1] || (a[0] < b[0] ? -1 : 1); }).map(function (p) { return p[0]; });
      }
      if (spec.limit) labels = labels.slice(0, spec.limit);
    }
    if (spec.split) {
      var found = Array.from(new Set(rows.map(function (r) { return r[spec.split]; }))).sort();
      var values = spec.split_order.filter(function (v) { return found.indexOf(v) >= 0; })
        .concat(found.filter(function (v) { return spec.split_order.indexOf(v) < 0; }));
      series = values.map(function (v) {
        return { label: v, data: labels.map(function (k) {
          return measure(spec.series[0].measure, (byX.get(k) || []).filter(function (r) { return r[spec.split] === v; }));
        }) };
      });
    } else {
      series = spec.series.map(function (s) {
        // a category with no rows is 0 of a sum, and no value of a ratio
        return { label: s.label, data: labels.map(function (k) {
          var v = measure(s.measure, byX.get(k) || []);
          return v === null && !s.measure.ratio ? 0 : v;
        }) };
      });
    }
    if (spec.kind === 'hbar') holder.style.height = Math.max(300, 22 * labels.length + 60) + 'px';  // one readable row per bar
    var line = spec.kind === 'line' || (spec.x === '@date' && spec.kind !== 'bar');
    var datasets = series.map(function (s, i) {
      return { label: s.label, data: s.data, backgroundColor: COLORS[i % COLORS.length], borderColor: COLORS[i % COLORS.length],
        borderWidth: line ? 1.5 : 0, pointRadius: 0, spanGaps: false };
    });
    var valueAxis = { beginAtZero: true, ticks: { callback: function (v) { return fmt(spec.fmt, v); } } };
    // whole-number formats round their ticks: a step of 0.5 would label the axis "0, 1, 1, 2, 2"
    if (spec.fmt === 'int' || spec.fmt === 'days') valueAxis.ticks.precision = 0;
    var options = {
      responsive: true, maintainAspectRatio: false, animation: false,
      indexAxis: spec.kind === 'hbar' ? 'y' : 'x',
      interaction: { mode: 'index', intersect: false },
      plugins: {
        legend: { display: datasets.length > 1, position: 'bottom', labels: { boxWidth: 12 } },
        tooltip: { callbacks: { label: function (ctx) { return ctx.dataset.label + ': ' + fmt(spec.fmt, ctx.raw); } } }
      },
      scales: spec.kind === 'hbar' ? { x: valueAxis, y: { ticks: { autoSkip: false } } } : { y: valueAxis, x: { ticks: { maxRotation: 60, autoSkip: true } } }
    };
    charts.push({ canvas: canvas, config: { type: line ? 'line' : 'bar', data: { labels: labels, datasets: datasets }, options: options } });
    if (!rows.length) c.appendChild(el('p', 'note', 'No data in this period.'));
    return c;
  }

  function csvCell(v) {
    // a sum of floats carries their binary noise (1166.2600000000002): 15 significant digits hold
    // every figure of the page exactly and drop it
    var s = v === null || v === undefined ? '' : typeof v === 'number' ? String(parseFloat(v.toPrecision(15))) : String(v);
    // text a spreadsheet would run as a formula (a campaign named =HYPERLINK(...)): kept text by a
    // leading apostrophe, which spreadsheets do not show (OWASP's advice on CSV injection); numbers as they are
    if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = "'" + s;
    return /[",\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  }

  var tableState = {};
  function table(spec, page, range, id) {
    var c = card(spec, page, range);
    var d = data[spec.dataset], rows = select(spec.dataset, page, d.date ? range : null);
    var out = [];
    groups(rows, spec.group).forEach(function (g) {
      var row = {};
      spec.columns.forEach(function (col) { row[col.key] = col.measure ? measure(col.measure, g.rows) : g.first[col.key]; });
      if ((spec.only || []).every(function (o) { return o[1] === '=' ? row[o[0]] === o[2] : row[o[0]] > o[2]; })) out.push(row);
    });
    var st = tableState[id] || (tableState[id] = { sort: spec.sort, desc: spec.descending, search: '' });
    var tools = el('div', 'tools'), search = el('input', 'search'), count = el('span'), button = el('button', '', 'Export CSV');
    search.type = 'search'; search.placeholder = 'Search'; search.value = st.search;
    search.setAttribute('aria-label', 'Search ' + spec.title);
    tools.appendChild(search); tools.appendChild(button); tools.appendChild(count);
    c.appendChild(tools);
    var scroll = el('div', 'scroll'), t = el('table', 'data');
    t.id = id;
    scroll.appendChild(t); c.appendChild(scroll);
    var shown = [];
    function draw() {
      var q = st.search.toLowerCase();
      shown = out.filter(function (r) {
        return !q || spec.columns.some(function (col) { return !col.measure && String(r[col.key]).toLowerCase().indexOf(q) >= 0; });
      });
      shown.sort(function (a, b) {
        var x = a[st.sort], y = b[st.sort];
        if (x === y) return 0;
        if (x === null) return 1;  // no value last, either way
        if (y === null) return -1;
        return (x < y ? -1 : 1) * (st.desc ? -1 : 1);
      });
      t.textContent = '';
      var head = el('tr');
      spec.columns.forEach(function (col) {
        // the label is a button inside the header: reached by Tab, pressed with Enter or Space
        var th = el('th', col.measure ? 'num' : ''), sortButton = el('button', 'sort', col.label);
        sortButton.type = 'button';
        sortButton.dataset.focus = id + ':' + col.key;
        th.appendChild(sortButton);
        th.dataset.key = col.key;
        if (col.key === st.sort) {
          th.classList.add(st.desc ? 'sorted-desc' : 'sorted-asc');
          th.setAttribute('aria-sort', st.desc ? 'descending' : 'ascending');
        }
        th.addEventListener('click', function () {
          st.desc = st.sort === col.key ? !st.desc : !!col.measure;
          st.sort = col.key;
          keepingFocus(draw);
        });
        head.appendChild(th);
      });
      var thead = el('thead'); thead.appendChild(head); t.appendChild(thead);
      var body = el('tbody');
      shown.forEach(function (r) {
        var tr = el('tr');
        spec.columns.forEach(function (col) { tr.appendChild(el('td', col.measure ? 'num' : '', fmt(col.fmt, r[col.key]))); });
        body.appendChild(tr);
      });
      t.appendChild(body);
      count.textContent = shown.length + ' of ' + out.length + ' rows';
    }
    search.addEventListener('input', function () { st.search = search.value; draw(); });
    button.addEventListener('click', function () {
      var lines = [spec.columns.map(function (col) { return csvCell(col.label); }).join(',')];
      shown.forEach(function (r) { lines.push(spec.columns.map(function (col) { return csvCell(r[col.key]); }).join(',')); });
      var text = lines.join('\n') + '\n';
      var parts = [spec.title, d.date ? range.start + '_' + range.end : '']
        .concat(Object.keys(state.filters).filter(function (k) { return k.indexOf(page.key + ':') === 0 && state.filters[k]; })
          .map(function (k) { return k.slice(page.key.length + 1) + '-' + state.filters[k]; }));
      var a = document.createElement('a');
      a.href = URL.createObjectURL(new Blob([text], { type: 'text/csv' }));
      a.download = parts.filter(Boolean).join('_').replace(/[^\w.-]+/g, '-') + '.csv';
      window.lastCsv = { name: a.download, text: text };
      document.body.appendChild(a); a.click(); a.remove();
    });
    draw();
    return c;
  }

  function heatmap(spec, page, range) {
    var c = card(spec, page, range);
    var d = data[spec.dataset], rows = select(spec.dataset, page, d.date ? range : null);
    var byRow = groups(rows, [spec.rows]);
    var cols = Array.from(new Set(rows.map(function (r) { return r[spec.cols]; }))).sort(function (a, b) { return a - b; });
    var t = el('table', 'data heat'), head = el('tr');
    head.appendChild(el('th', '', ''));
    cols.forEach(function (k) { head.appendChild(el('th', 'num', String(k))); });
    t.appendChild(head);
    Array.from(byRow.keys()).sort().forEach(function (k) {
      var tr = el('tr'), g = byRow.get(k);
      tr.appendChild(el('td', '', fmt('month', k)));
      var cells = groups(g.rows, [spec.cols]);
      cols.forEach(function (col) {
        var cell = cells.get(String(col)), v = cell ? measure(spec.measure, cell.rows) : null;
        var td = el('td', 'num', fmt(spec.fmt, v));
        if (v !== null) {
          var shade = Math.max(0, Math.min(1, v));  // fractions: 0 white .. 1 full blue
          td.style.background = 'rgba(31, 95, 168,' + (0.08 + 0.8 * Math.sqrt(shade)).toFixed(3) + ')';
          td.style.color = shade > 0.3 ? '#fff' : '#222';
        }
        tr.appendChild(td);
      });
      t.appendChild(tr);
    });
    var scroll = el('div', 'scroll');
    scroll.appendChild(t);
    c.appendChild(scroll);
    if (!rows.length) c.appendChild(el('p', 'note', 'No data in this period.'));
    return c;
  }

  function text(spec) {
    var c = el('div', 'card' + (spec.wide ? ' wide' : ''));
    c.appendChild(el('h3', '', spec.title));
    var body = el('div');
    body.innerHTML = spec.html;  // written by the page's author in marts/report.py, not data
    c.appendChild(body);
    return c;
  }

  // ------------------------------------------------------------------ pages
  var root = document.getElementById('pages'), nav = document.getElementById('nav');
  var current = null;

  function filterBar(page) {
    var bar = el('div', 'filters card');
    (page.filters || []).forEach(function (f) {
      var label = el('label', '', f.label + ' '), sel = el('select');
      sel.dataset.filter = f.label;
      sel.dataset.focus = 'filter:' + f.label;
      var values = f.values.length ? f.values : Array.from(new Set([].concat.apply([], page.datasets.map(function (n) {
        return data[n].rows.map(function (r) { return f.columns.map(function (c) { return filterValue(r, c); }); })
          .reduce(function (a, b) { return a.concat(b); }, []);
      })).filter(function (v) { return v !== null && v !== undefined; }))).sort();
      sel.appendChild(el('option', '', 'All')).value = '';
      values.forEach(function (v) { sel.appendChild(el('option', '', v)).value = v; });
      sel.value = state.filters[page.key + ':' + f.label] || '';
      sel.addEventListener('change', function () { state.filters[page.key + ':' + f.label] = sel.value; keepingFocus(draw); });
      label.appendChild(sel);
      bar.appendChild(label);
    });
    return bar;
  }

  function draw() {
    var page = current, range = { start: state.start, end: state.end };
    charts.forEach(function (ch) { if (ch.chart) ch.chart.destroy(); });
    charts = [];
    var section = el('section', 'page active');
    section.id = 'page-' + page.key;
    section.setAttribute('aria-label', page.title);
    if (page.filters.length) section.appendChild(filterBar(page));
    if (page.note) section.appendChild(el('p', 'page-note', page.note));
    var tileItems = page.items.filter(function (i) { return i.component === 'tile'; });
    if (tileItems.length) section.appendChild(tiles(tileItems, page, range));
    page.items.forEach(function (item, i) {
      var id = page.key + '-' + i;
      if (item.component === 'chart') section.appendChild(chart(item, page, range));
      else if (item.component === 'table') section.appendChild(table(item, page, range, 'table-' + id));
      else if (item.component === 'heatmap') section.appendChild(heatmap(item, page, range));
      else if (item.component === 'text') section.appendChild(text(item));
    });
    root.textContent = '';
    root.appendChild(section);
    charts.forEach(function (ch) {
      try { ch.chart = new window.Chart(ch.canvas, ch.config); status.charts += 1; }
      catch (err) { status.errors.push(String(err)); }
    });
    var prev = previous(range), dated = page.datasets.some(function (n) { return data[n].date; });
    // a page of figures at as_of (products) selects no dates: no period of its is compared with
    // another, and a period chosen there would change nothing on it (it is kept for the other pages)
    document.getElementById('range-compare').textContent = dated
      ? 'compared with ' + prev.start + ' to ' + prev.end : 'the period does not apply to this page (figures at as_of)';
    [preset, startIn, endIn].forEach(function (i) { i.disabled = !dated; });
    status.page = page.key;
    status.drawn = (status.drawn || 0) + 1;
  }

  function show(key) {
    current = R.pages.filter(function (p) { return p.key === key; })[0] || R.pages[0];
    nav.querySelectorAll('button').forEach(function (b) { b.classList.toggle('active', b.dataset.page === current.key); });
    if (location.hash !== '#' + current.key) history.replaceState(null, '', '#' + current.key);
    draw();
  }

  // ------------------------------------------------------------------ range control
  var preset = document.getElementById('range-preset'), startIn = document.getElementById('range-start'),
    endIn = document.getElementById('range-end');
  [startIn, endIn].forEach(function (i) { i.min = firstDate; i.max = asOf; });
  function clamp(s) { return s < firstDate ? firstDate : s > asOf ? asOf : s; }
  function setRange(start, end) {
    state.start = clamp(start); state.end = clamp(end);
    if (state.start > state.end) state.start = state.end;
    startIn.value = state.start; endIn.value = state.end;
    if (current) draw();
  }
  function applyPreset(v) {
    var y = asOf.slice(0, 4), m = +asOf.slice(5, 7), q = String(Math.floor((m - 1) / 3) * 3 + 1).padStart(2, '0');
    var start = { qtd: y + '-' + q + '-01', ytd: y + '-01-01', all: firstDate }[v] || addDays(asOf, 1 - (+v));
    setRange(start, asOf);
  }
  preset.addEventListener('change', function () { if (preset.value !== 'custom') applyPreset(preset.value); });
  [startIn, endIn].forEach(function (i) {
    i.addEventListener('change', function () { preset.value = 'custom'; setRange(startIn.value || firstDate, endIn.value || asOf); });
  });

  // pages from the page's own datasets
  R.pages.forEach(function (p) {
    p.datasets = Array.from(new Set(p.items.map(function (i) { return i.dataset; }).filter(Boolean)));
    var b = el('button', '', p.title);
    b.dataset.page = p.key;
    b.addEventListener('click', function () { show(p.key); });
    nav.appendChild(b);
  });

  window.report = {
    show: show,
    setRange: function (start, end) { preset.value = 'custom'; setRange(start, end); },
    preset: function (v) { preset.value = String(v); applyPreset(String(v)); },
    filter: function (label, value) {
      state.filters[current.key + ':' + label] = value || '';
      draw();
    },
    state: state,
    format: fmt  // how the page writes a value of each format (its tests read it)
  };
  applyPreset('30');
  show(location.hash.slice(1));
  status.readyMs = performance.now();  // navigation start to the first page drawn
  status.ready = true;
})();
