// The catalog page: a sidebar of models, a search over names and descriptions, the lineage graph
// (Cytoscape.js) and one model's page at a time, chosen by the URL's hash (#model=NAME).
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("catalog-data").textContent);
  const models = data.models;
  const layers = ["staging", "intermediate", "marts"];

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return node;
  }
  const link = (hash, text) => el("a", { href: "#" + hash }, text);
  const modelLink = (name) => link("model=" + encodeURIComponent(name), name);
  const exposureLink = (name) => link("exposure=" + encodeURIComponent(name), name + " (exposure)");
  function joined(nodes) {
    const span = el("span");
    nodes.forEach((n, i) => span.append(...(i ? [", ", n] : [n])));
    if (!nodes.length) span.append("none");
    return span;
  }

  // -- sidebar and header ------------------------------------------------------------------------
  const sidebar = document.getElementById("sidebar");
  for (const layer of layers) {
    sidebar.append(el("h3", {}, layer));
    for (const [name, m] of Object.entries(models)) {
      if (m.layer === layer) sidebar.append(el("a", { href: "#model=" + name, "data-model": name }, name));
    }
  }
  if (Object.keys(data.exposures).length) {
    sidebar.append(el("h3", {}, "exposures"));
    for (const name of Object.keys(data.exposures)) sidebar.append(link("exposure=" + name, name));
  }
  const vars = (values) => Object.entries(values).map(([k, v]) => `${k}=${v}`).join(", ");
  document.getElementById("build-info").textContent = data.build
    ? `Last build on ${data.build.target}: ${vars(data.build.vars)}`
    : `No build found; SQL compiled with ${vars(data.compiled_with)}`;

  // -- one model, or one exposure ----------------------------------------------------------------
  const page = document.getElementById("model");

  function showModel(name) {
    const m = models[name];
    page.replaceChildren(
      el("h2", {}, name),
      el("p", { class: "meta" }, `${m.layer} · ${m.materialized} · key ${m.key.join(", ")}`),
      el("p", {}, el("b", {}, m.grain)),
      ...m.description.split("\n\n").filter(Boolean).map((p) => el("p", {}, p)),
      el("p", {}, "Reads: ", joined([
        ...m.upstream.models.map(modelLink),
        ...m.upstream.sources.map((s) => el("span", {}, "raw." + s)),
      ])),
      el("p", {}, "Parameters: ", m.upstream.vars.join(", ") || "none"),
      el("p", {}, "Read by: ", joined([
        ...m.downstream.models.map(modelLink),
        ...m.downstream.exposures.map(exposureLink),
      ])),
      el("p", { class: "meta build" }, m.build
        // _ecom_build may hold no row count (engine.last_builds reads rows as nullable): say none
        ? `Built ${m.build.built_at}${m.build.rows === null ? "" : `: ${m.build.rows.toLocaleString("en")} rows`}`
          + ` in ${m.build.seconds} s`
        : "Not built on this target."),
      el("h3", {}, "Columns"),
      columnsTable(name, m),
      el("h3", {}, "Data tests"),
      el("ul", {}, ...m.tests.map((t) => el("li", {}, t, data.data_tests[t] ? ": " + data.data_tests[t].description : ""))),
      el("h3", {}, "Compiled SQL"),
      el("div", { class: "sql" },
        el("div", {}, el("h4", {}, "DuckDB"), el("pre", { class: "sql-duckdb" }, m.sql.duckdb)),
        el("div", {}, el("h4", {}, "BigQuery"), el("pre", { class: "sql-bigquery" }, m.sql.bigquery))),
    );
  }

  function columnsTable(name, m) {
    const rows = Object.entries(m.columns).map(([c, col]) =>
      el("tr", { id: `col-${name}-${c}` },
        el("td", { class: "name" }, c),
        el("td", { class: "type" }, col.type),
        el("td", {}, col.description),
        el("td", {}, ...col.tests.map((t) => el("span", { class: "tag" }, t)))));
    return el("table", { class: "columns" },
      el("thead", {}, el("tr", {}, el("th", {}, "column"), el("th", {}, "type"), el("th", {}, "description"), el("th", {}, "tests"))),
      el("tbody", {}, ...rows));
  }

  function showExposure(name) {
    const e = data.exposures[name];
    page.replaceChildren(
      el("h2", {}, name + " (exposure)"),
      el("p", {}, e.description),
      el("table", {},
        el("thead", {}, el("tr", {}, el("th", {}, "model"), el("th", {}, "columns read"))),
        el("tbody", {}, ...Object.entries(e.reads).map(([m, cols]) =>
          el("tr", {}, el("td", {}, models[m] ? modelLink(m) : m + " (not in this project)"), el("td", { class: "cols" }, cols.join(", ")))))),
    );
  }

  // -- search: every word of the query in a model's or a column's name or description ------------
  const entries = [];
  for (const [name, m] of Object.entries(models)) {
    entries.push({ model: name, label: name, text: m.grain + " " + m.description });
    for (const [c, col] of Object.entries(m.columns)) {
      entries.push({ model: name, column: c, label: `${name}.${c}`, text: col.description });
    }
  }
  const results = document.getElementById("results");

  function search(query) {
    const words = query.toLowerCase().split(/\s+/).filter(Boolean);
    results.hidden = !words.length;
    if (!words.length) return;
    const found = entries.filter((e) => words.every((w) => (e.label + " " + e.text).toLowerCase().includes(w)));
    results.replaceChildren(
      el("h2", {}, `${found.length} match${found.length === 1 ? "" : "es"} for “${query}”`),
      ...found.slice(0, 200).map((e) => {
        const a = el("a", { class: "result", href: "#model=" + e.model + (e.column ? "&column=" + e.column : "") },
          el("b", {}, e.label), " — ", e.text);
        a.dataset.label = e.label;
        return a;
      }),
    );
  }
  document.getElementById("search").addEventListener("input", (ev) => search(ev.target.value));

  // -- the lineage graph: columns by depth (raw sources, then each model after what it reads) ---
  const nodes = [], edges = [], depth = {};
  for (const [name, m] of Object.entries(models)) {  // in dependency order
    for (const s of m.upstream.sources) {
      if (!("raw." + s in depth)) {
        depth["raw." + s] = 0;
        nodes.push({ data: { id: "raw." + s, kind: "source" } });
      }
      edges.push({ data: { source: "raw." + s, target: name } });
    }
    m.upstream.models.forEach((u) => edges.push({ data: { source: u, target: name } }));
    depth[name] = 1 + Math.max(0, ...m.upstream.models.map((u) => depth[u]));
    nodes.push({ data: { id: name, kind: "model", layer: m.layer } });
  }
  for (const [name, e] of Object.entries(data.exposures)) {
    // An exposure may read a mart of another branch: only the models here are drawn.
    const reads = Object.keys(e.reads).filter((m) => models[m]);
    if (!reads.length) continue;
    const id = "exposure:" + name;
    depth[id] = 1 + Math.max(...reads.map((m) => depth[m]));
    nodes.push({ data: { id: id, label: name, kind: "exposure" } });
    reads.forEach((m) => edges.push({ data: { source: m, target: id } }));
  }
  const row = {};
  for (const n of nodes) {
    const d = depth[n.data.id];
    row[d] = (row[d] || 0) + 1;
    n.position = { x: d * 260, y: row[d] * 56 };
  }
  const cy = cytoscape({
    container: document.getElementById("lineage"),
    elements: { nodes, edges },
    layout: { name: "preset", fit: true, padding: 20 },
    wheelSensitivity: 0.3,
    style: [
      { selector: "node", style: {
        label: (n) => n.data("label") || n.id(), shape: "round-rectangle", width: 200, height: 34,
        "font-size": 12, "text-valign": "center", "text-halign": "center", "text-wrap": "ellipsis",
        "text-max-width": 190, "background-color": "#d9e2ec", "border-width": 1, "border-color": "#829ab1" } },
      { selector: 'node[kind = "source"]', style: { shape: "barrel", "background-color": "#fff" } },
      { selector: 'node[layer = "staging"]', style: { "background-color": "#e3f2fd" } },
      { selector: 'node[layer = "intermediate"]', style: { "background-color": "#fff3c4" } },
      { selector: 'node[layer = "marts"]', style: { "background-color": "#c6f7e2" } },
      { selector: 'node[kind = "exposure"]', style: { shape: "hexagon", "background-color": "#f8bbd0" } },
      { selector: "node.current", style: { "border-width": 3, "border-color": "#243b53" } },
      { selector: "edge", style: { width: 1.2, "curve-style": "bezier", "target-arrow-shape": "triangle",
        "line-color": "#9fb3c8", "target-arrow-color": "#9fb3c8" } },
    ],
  });
  cy.on("tap", 'node[kind = "model"]', (ev) => { location.hash = "model=" + ev.target.id(); });
  cy.on("tap", 'node[kind = "exposure"]', (ev) => { location.hash = "exposure=" + ev.target.data("label"); });

  // -- routing -----------------------------------------------------------------------------------
  function route() {
    const params = new URLSearchParams(location.hash.slice(1));
    const model = params.get("model"), exposure = params.get("exposure");
    page.hidden = !(models[model] || data.exposures[exposure]);
    document.querySelectorAll("#sidebar a").forEach((a) => a.classList.toggle("current", a.dataset.model === model));
    cy.nodes().removeClass("current");
    window.catalogStatus.current = null;
    if (page.hidden) return;
    if (models[model]) {
      showModel(model);
      cy.getElementById(model).addClass("current");
    } else {
      showExposure(exposure);
    }
    // A column asked for (a search result) is scrolled to; otherwise the graph stays in view above.
    const column = params.get("column") && document.getElementById(`col-${model}-${params.get("column")}`);
    if (column) column.scrollIntoView({ block: "center" });
    window.catalogStatus.current = model || "exposure:" + exposure;
  }
  window.catalogStatus = { ready: false, current: null };
  window.catalogGraph = cy;
  window.addEventListener("hashchange", route);
  route();
  window.catalogStatus.ready = true;
})();
