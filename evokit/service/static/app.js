/* evokit serve: the live page. Plain JavaScript, no build step; plots with the Plotly.js that the
 * server hands out at static/plotly.min.js (nothing is loaded from anywhere else).
 *
 * Routes (in the URL's hash): #/ lists the jobs (polled every 2 s) with a form to start one;
 * #/jobs/<id> follows one job through its server-sent events (state, generation, candidate, end).
 * When the server wants a token (GET api/options: token_required) it is kept in localStorage and
 * sent as "Authorization: Bearer <token>"; EventSource and link URLs carry it as ?token=.
 */
"use strict";

(function () {
  const TOKEN_KEY = "evokit-token";
  const POLL_MS = 2000;
  const JOB_POLL_MS = 4000;
  const ACTIVE = ["queued", "running", "stopping"];
  // Nothing that leaves the page: no Plotly logo link, no "share chart" (upload) button.
  const PLOT_CONFIG = {responsive: true, displaylogo: false, scrollZoom: false, showSendToCloud: false,
                       showEditInChartStudio: false, showLink: false,
                       modeBarButtonsToRemove: ["sendChartToCloud", "select2d", "lasso2d", "autoScale2d",
                         "toggleSpikelines", "zoomIn2d", "zoomOut2d", "downloadJson", "hoverClosestCartesian",
                         "hoverCompareCartesian"]};
  const PLOT_FONT = {family: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", size: 12, color: "#1f2933"};
  const app = {options: null, cleanup: null};

  /* ---------- small helpers ---------- */

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else if (key in node && typeof value !== "string") node[key] = value;
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function escapeHtml(text) {
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  function isNumber(v) {
    return typeof v === "number" && Number.isFinite(v);
  }

  function fmt(v) {
    if (v === null || v === undefined || v === "") return "–";
    if (typeof v !== "number") return String(v);
    if (!Number.isFinite(v)) return String(v);
    if (Number.isInteger(v) || Math.abs(v) >= 1000) return Math.round(v).toLocaleString("en-US");
    return String(Number(v.toPrecision(4)));
  }

  function fmtDuration(s) {
    if (!isNumber(s)) return "–";
    s = Math.max(0, Math.round(s));
    if (s < 60) return `${s} s`;
    const m = Math.floor(s / 60);
    if (m < 60) return `${m} min ${s % 60} s`;
    const h = Math.floor(m / 60);
    return h < 48 ? `${h} h ${m % 60} min` : `${Math.floor(h / 24)} d ${h % 24} h`;
  }

  function fmtTime(iso) {
    if (!iso) return "–";
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return String(iso);
    const ago = (Date.now() - date.getTime()) / 1000;
    if (ago >= 0 && ago < 3600 * 20) return fmtDuration(ago).replace(/ \d+ s$/, "") + " ago";
    return date.toLocaleString();
  }

  /** Wrap a long network string (layers joined by " > ") into lines for a hover label. */
  function wrapNetwork(network, width) {
    const parts = String(network || "").split(" > ");
    const lines = [];
    let line = "";
    for (const part of parts) {
      const next = line ? `${line} > ${part}` : part;
      if (line && next.length > width) {
        lines.push(line + " >");
        line = part;
      } else {
        line = next;
      }
    }
    if (line) lines.push(line);
    return lines.map(escapeHtml).join("<br>");
  }

  /** The value of objective ``name`` in a values/fitness object, whose keys may be the metric
   * names (val_accuracy) rather than the objective names (accuracy). */
  function objectiveValue(values, name) {
    if (!values) return [null, null];
    for (const key of [name, `val_${name}`]) {
      if (key in values) return [key, values[key]];
    }
    const first = Object.keys(values)[0];
    return first === undefined ? [null, null] : [first, values[first]];
  }

  function bestText(job) {
    if (!job.best || !job.best.values) return "–";
    const [key, value] = objectiveValue(job.best.values, (job.objectives || [])[0] || job.headline || "");
    return key === null ? "–" : `${fmt(value)}`;
  }

  function bestLabel(job) {
    if (!job.best || !job.best.values) return "";
    return objectiveValue(job.best.values, (job.objectives || [])[0] || "")[0] || "";
  }

  function badge(state) {
    return el("span", {class: `badge state-${state}`, text: state || "?"});
  }

  /* ---------- the token and the API ---------- */

  function token() {
    try {
      return localStorage.getItem(TOKEN_KEY) || "";
    } catch (e) {
      return app.memoryToken || "";
    }
  }

  function setToken(value) {
    try {
      if (value) localStorage.setItem(TOKEN_KEY, value);
      else localStorage.removeItem(TOKEN_KEY);
    } catch (e) {
      app.memoryToken = value;
    }
  }

  function withToken(url) {
    const t = token();
    if (!t) return url;
    return `${url}${url.includes("?") ? "&" : "?"}token=${encodeURIComponent(t)}`;
  }

  function showTokenForm(message) {
    const form = document.getElementById("token-form");
    form.hidden = false;
    document.getElementById("token-forget").hidden = true;
    document.getElementById("token-message").textContent = message || "";
  }

  function hideTokenForm() {
    document.getElementById("token-form").hidden = true;
    document.getElementById("token-forget").hidden = !(app.options && app.options.token_required && token());
  }

  async function api(path, options) {
    options = options || {};
    const headers = new Headers(options.headers || {});
    const t = token();
    if (t) headers.set("Authorization", `Bearer ${t}`);
    const response = await fetch(path, {...options, headers});
    if (response.status === 401) {
      showTokenForm(t ? "The server did not accept this token." : "This server needs a token.");
    }
    return response;
  }

  /** The message of an error response: FastAPI's {"detail": "..."} (or its validation list). */
  async function errorMessage(response) {
    let body = null;
    try {
      body = await response.json();
    } catch (e) {
      return `${response.status} ${response.statusText}`.trim();
    }
    const detail = body && body.detail !== undefined ? body.detail : body;
    if (Array.isArray(detail)) {
      return detail.map((d) => {
        const where = Array.isArray(d.loc) ? d.loc.filter((p) => p !== "body").join(".") : "";
        return where ? `${where}: ${d.msg}` : (d.msg || JSON.stringify(d));
      }).join("; ");
    }
    return typeof detail === "string" ? detail : JSON.stringify(detail);
  }

  /* ---------- routing ---------- */

  function route() {
    if (app.cleanup) {
      try {
        app.cleanup();
      } catch (e) { /* a view that failed to build has nothing to stop */ }
      app.cleanup = null;
    }
    const view = document.getElementById("view");
    view.replaceChildren();
    if (app.options.token_required && !token()) {
      document.title = "evokit";
      showTokenForm("This server needs a token.");
      view.append(el("section", {class: "card"}, el("h1", {text: "Token needed"}),
        el("p", {text: "This server was started with --token: enter that token above to see and start jobs."})));
      return;
    }
    hideTokenForm();
    const match = (location.hash || "#/").match(/^#\/jobs\/([^/?#]+)/);
    app.cleanup = match ? jobView(view, decodeURIComponent(match[1])) : listView(view);
  }

  /* ---------- #/ : the job list and the form ---------- */

  function listView(root) {
    document.title = "evokit — jobs";
    let alive = true;
    let timer = null;
    const status = el("p", {class: "muted", role: "status", text: "Loading jobs…"});
    const body = el("tbody");
    const table = el("table", {class: "jobs", id: "jobs"},
      el("thead", {}, el("tr", {}, ["Name", "Dataset", "State", "Generation", "Evaluations", "Best", "ETA",
        "Created"].map((h) => el("th", {scope: "col", text: h})))), body);
    table.hidden = true;
    root.append(
      el("section", {class: "card"}, el("h1", {text: "Jobs"}), status, el("div", {class: "table-wrap"}, table)),
      newJobForm());

    function row(job) {
      const href = `#/jobs/${encodeURIComponent(job.id)}`;
      const generation = job.generation === null || job.generation === undefined ? "–" : job.generation;
      const cells = [
        ["Name", el("a", {href, class: "job-link", text: job.name || job.id})],
        ["Dataset", job.dataset || "–"],
        ["State", badge(job.state)],
        ["Generation", job.generations ? `${generation} / ${job.generations}` : `${generation}`],
        ["Evaluations", fmt(job.evaluations)],
        ["Best", bestText(job)],
        ["ETA", job.state === "running" ? fmtDuration(job.eta_s) : "–"],
        ["Created", fmtTime(job.created)],
      ];
      return el("tr", {"data-id": job.id}, cells.map(([label, value]) => el("td", {"data-label": label}, value)));
    }

    async function poll() {
      try {
        const response = await api("api/jobs");
        if (!alive) return;
        if (response.ok) {
          const jobs = (await response.json()).jobs || [];
          if (!alive) return;
          body.replaceChildren(...jobs.map(row));
          table.hidden = jobs.length === 0;
          status.textContent = jobs.length ? "" : "No jobs yet: start one below.";
          status.hidden = jobs.length > 0;
        } else {
          status.hidden = false;
          status.textContent = `Could not list the jobs: ${await errorMessage(response)}`;
        }
      } catch (e) {
        status.hidden = false;
        status.textContent = "The server does not answer; retrying…";
      }
      if (alive) timer = setTimeout(poll, POLL_MS);
    }

    poll();
    return () => {
      alive = false;
      clearTimeout(timer);
    };
  }

  function field(label, control, hint) {
    return el("div", {class: "field"}, el("label", {for: control.id, text: label}), control,
      hint ? el("small", {class: "hint", text: hint}) : null);
  }

  function select(id, name, values, chosen) {
    return el("select", {id, name}, values.map((v) => el("option", {value: v, selected: v === chosen, text: v})));
  }

  function number(id, name, value, min) {
    return el("input", {id, name, type: "number", inputmode: "numeric", min: String(min), step: "1",
      value: value === undefined || value === null ? "" : String(value)});
  }

  function newJobForm() {
    const o = app.options;
    const d = o.defaults || {};
    const maxBytes = o.max_upload_bytes;
    const error = el("p", {id: "form-error", class: "error", role: "alert", hidden: true});
    const dataset = select("f-dataset", "dataset", o.datasets || [], d.dataset);
    const file = el("input", {id: "f-data", name: "data", type: "file", accept: ".csv,.npz"});
    const config = el("textarea", {id: "f-config", name: "config", rows: "10", spellcheck: "false",
      placeholder: "seed = 0\n[data]\nname = \"digits\"\n[algorithm]\ntype = \"ga\"\n…"});
    const objectives = el("fieldset", {class: "field objectives", id: "f-objectives"},
      el("legend", {text: "Objectives"}),
      el("div", {class: "checks"}, (o.objectives || []).map((name) => el("label", {class: "check"},
        el("input", {type: "checkbox", name: "objectives", value: name,
          checked: (d.objectives || []).includes(name)}), ` ${name}`))));
    const submit = el("button", {type: "submit", class: "primary", id: "f-submit", text: "Start search"});
    const mb = isNumber(maxBytes) ? ` (up to ${fmt(maxBytes / 1048576)} MB)` : "";

    const form = el("form", {id: "new-job", class: "new-job", autocomplete: "off"},
      el("div", {class: "fields"},
        field("Name", el("input", {id: "f-name", name: "name", type: "text", maxlength: "100",
          placeholder: "optional"})),
        field("Dataset", dataset),
        field("…or your data", file, `a CSV or NPZ file${mb}; it replaces the dataset`),
        field("Encoding", select("f-encoding", "encoding", o.encodings || [], d.encoding)),
        field("Search", select("f-search", "search", o.searches || [], d.search)),
        field("Generations", number("f-generations", "generations", d.generations, 0)),
        field("Population", number("f-population", "population", d.population, 2)),
        field("Epochs", number("f-epochs", "epochs", d.epochs, 1), "training epochs per candidate"),
        field("Final epochs", number("f-final-epochs", "final_epochs", d.final_epochs, 0),
          "to train the best network again at the end"),
        field("Seed", number("f-seed", "seed", d.seed, 0)),
        field("Max evaluations", number("f-evaluations", "evaluations", "", 1), "optional budget"),
        field("Max seconds", number("f-seconds", "seconds", "", 1), "optional budget")),
      objectives,
      el("label", {class: "check wide"}, el("input", {type: "checkbox", name: "hyperparameters", id: "f-hyper"}),
        " evolve training hyper-parameters"),
      el("details", {class: "toml", open: false},
        el("summary", {text: "…or paste a TOML config"}),
        field("Config", config, "When given, the config defines the whole search (dataset included); only the " +
          "name and an uploaded file still apply.")),
      el("div", {class: "submit-row"}, submit, error));

    function showError(message) {
      error.textContent = message;
      error.hidden = false;
      for (const control of form.querySelectorAll("[name]")) {
        const named = new RegExp(`\\b${control.name}\\b`, "i").test(message);
        if (named) control.setAttribute("aria-invalid", "true");
      }
      if (/\bobjectives?\b/i.test(message)) objectives.classList.add("invalid");
    }

    function clearError() {
      error.hidden = true;
      error.textContent = "";
      objectives.classList.remove("invalid");
      for (const control of form.querySelectorAll("[aria-invalid]")) control.removeAttribute("aria-invalid");
    }

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearError();
      const body = new FormData();
      const name = form.elements.namedItem("name").value.trim();
      const toml = config.value.trim();
      const upload = file.files[0];
      if (name) body.append("name", name);
      if (upload) {
        if (isNumber(maxBytes) && upload.size > maxBytes) {
          showError(`data: the file is ${fmt(upload.size)} bytes, more than the ${fmt(maxBytes)} this server takes`);
          return;
        }
        body.append("data", upload, upload.name);
      } else if (!toml) {
        body.append("dataset", dataset.value);
      }
      if (toml) {
        body.append("config", toml);
      } else {
        const chosen = Array.from(form.querySelectorAll("input[name=objectives]:checked")).map((c) => c.value);
        if (!chosen.length) {
          showError("objectives: choose at least one");
          return;
        }
        body.append("encoding", form.elements.namedItem("encoding").value);
        body.append("search", form.elements.namedItem("search").value);
        body.append("objectives", chosen.join(","));
        for (const key of ["generations", "population", "epochs", "final_epochs", "seed", "evaluations", "seconds"]) {
          const control = form.elements.namedItem(key);
          const value = control ? control.value.trim() : "";
          if (value !== "") body.append(key, value);
        }
        body.append("hyperparameters", form.elements.namedItem("hyperparameters").checked ? "true" : "false");
      }
      submit.disabled = true;
      submit.textContent = "Starting…";
      try {
        const response = await api("api/jobs", {method: "POST", body});
        if (response.status === 201 || response.ok) {
          const job = await response.json();
          location.hash = `#/jobs/${encodeURIComponent(job.id)}`;
          return;
        }
        showError(await errorMessage(response));
      } catch (e) {
        showError(`The server does not answer: ${e.message || e}`);
      } finally {
        submit.disabled = false;
        submit.textContent = "Start search";
      }
    });

    return el("section", {class: "card"}, el("h2", {text: "New search"}), form);
  }

  /* ---------- #/jobs/<id> : one job, live ---------- */

  function jobView(root, id) {
    const base = `api/jobs/${encodeURIComponent(id)}`;
    let alive = true;
    let job = null;
    let source = null;
    let pollTimer = null;
    let polling = null;  // the AbortController of the watch's request in flight
    let drawTimer = null;
    let objectiveColumn = null;
    const generations = new Map();
    const candidates = new Map();
    const plotting = typeof Plotly !== "undefined";

    const title = el("h1", {class: "job-title", text: id});
    const stateBadge = el("span", {class: "badge", id: "job-state", text: "…"});
    const meta = el("p", {class: "meta muted"});
    const stat = (label, key) => el("div", {class: "stat"}, el("dt", {text: label}),
      el("dd", {id: `job-${key}`, text: "–"}));
    const stats = el("dl", {class: "stats"}, stat("Generation", "generation"), stat("Evaluations", "evaluations"),
      stat("Best", "best"), stat("Elapsed", "elapsed"), stat("ETA", "eta"));
    const fill = el("div", {class: "fill"});
    const bar = el("div", {class: "progress", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100",
      "aria-valuenow": "0", "aria-label": "progress"}, fill);
    const errorBox = el("pre", {class: "error job-error", id: "job-error", hidden: true});
    const notice = el("p", {class: "notice", role: "status", id: "job-notice", hidden: true});
    const stopButton = el("button", {type: "button", id: "stop", text: "Stop", disabled: true});
    const resumeButton = el("button", {type: "button", id: "resume", text: "Resume", disabled: true});
    const deleteButton = el("button", {type: "button", id: "delete", class: "danger", text: "Delete", disabled: true});
    const link = (key, text, attrs) => el("a", {id: `link-${key}`, href: "#", text, ...attrs});
    const links = {
      report: link("report", "HTML report", {target: "_blank", rel: "noopener"}),
      best: link("best", "Best model (.keras)", {download: ""}),
      pareto_zip: link("pareto-zip", "Pareto models (.zip)", {download: ""}),
      pareto: link("pareto", "Pareto front (JSON)", {target: "_blank", rel: "noopener"}),
      config: link("config", "Config", {target: "_blank", rel: "noopener"}),
      log: link("log", "Log", {target: "_blank", rel: "noopener"}),
    };
    const convergence = el("div", {id: "convergence", class: "plot"});
    const scatter = el("div", {id: "scatter", class: "plot"});
    const detail = el("div", {id: "candidate", class: "candidate muted",
      text: "Hover over (or tap) a point to see that candidate's network."});
    const bestBox = el("div", {id: "best-network", class: "best-network"});

    root.append(
      el("p", {class: "back"}, el("a", {href: "#/", text: "← all jobs"})),
      el("section", {class: "card job-head"},
        el("div", {class: "title-row"}, title, stateBadge), meta, stats, bar, notice, errorBox,
        el("div", {class: "actions"}, stopButton, resumeButton, deleteButton),
        el("nav", {class: "links", "aria-label": "downloads"}, Object.values(links))),
      el("div", {class: "plots"},
        el("section", {class: "card plot-card"}, el("h2", {text: "Convergence"}), convergence),
        el("section", {class: "card plot-card"}, el("h2", {id: "scatter-title", text: "Candidates"}), scatter, detail)),
      el("section", {class: "card"}, el("h2", {text: "Best so far"}), bestBox));

    function say(message) {
      notice.textContent = message || "";
      notice.hidden = !message;
    }

    /* --- the job's header --- */

    function setJob(next) {
      if (!next || !alive) return;
      const firstTime = job === null;
      job = next;
      document.title = `${job.name || job.id} — ${job.state} — evokit`;
      title.textContent = job.name || job.id;
      stateBadge.className = `badge state-${job.state}`;
      stateBadge.textContent = job.state;
      meta.textContent = [job.dataset, job.encoding, job.search, (job.objectives || []).join(" + "),
        job.created ? `created ${fmtTime(job.created)}` : null, `id ${job.id}`].filter(Boolean).join(" · ");
      const g = job.generation === null || job.generation === undefined ? "–" : job.generation;
      document.getElementById("job-generation").textContent = job.generations ? `${g} / ${job.generations}` : `${g}`;
      document.getElementById("job-evaluations").textContent = fmt(job.evaluations);
      const label = bestLabel(job);
      document.getElementById("job-best").textContent = job.best
        ? `${bestText(job)}${label ? ` ${label}` : ""}` +
          `${isNumber(job.best.params) ? ` · ${fmt(job.best.params)} params` : ""}`
        : "–";
      document.getElementById("job-elapsed").textContent = fmtDuration(job.elapsed_s);
      document.getElementById("job-eta").textContent = ACTIVE.includes(job.state) ? fmtDuration(job.eta_s) : "–";
      // the budget that ends the search first: generations (rows run 0, the first population, to
      // generations) or evaluations
      let progress = 0;
      if (job.generations && isNumber(job.generation)) {
        progress = 100 * (job.generation + 1) / (job.generations + 1);
      }
      if (isNumber(job.evaluations_budget) && job.evaluations_budget > 0) {
        progress = Math.max(progress, 100 * (job.evaluations || 0) / job.evaluations_budget);
      }
      progress = job.state === "finished" ? 100 : Math.max(0, Math.min(100, progress));
      fill.style.width = `${progress.toFixed(1)}%`;
      bar.setAttribute("aria-valuenow", progress.toFixed(0));
      bar.classList.toggle("active", job.state === "running" || job.state === "stopping");
      errorBox.hidden = !job.error;
      errorBox.textContent = job.error || "";
      stopButton.disabled = !(job.state === "queued" || job.state === "running");
      resumeButton.disabled = !(job.state === "stopped" || job.state === "failed");
      deleteButton.disabled = ACTIVE.includes(job.state);
      deleteButton.title = deleteButton.disabled ? "stop the job first" : "";
      setLinks();
      renderBest();
      if (firstTime) setupPlots();
      scheduleDraw();
    }

    function setLinks() {
      links.report.href = withToken(`${base}/report`);
      links.best.href = withToken(`${base}/models/best.keras`);
      links.pareto_zip.href = withToken(`${base}/models/pareto.zip`);
      links.pareto.href = withToken(`${base}/pareto`);
      links.config.href = withToken(`${base}/config`);
      links.log.href = withToken(`${base}/log`);
      const done = job && job.state === "finished";
      for (const key of ["best", "pareto_zip"]) {
        links[key].classList.toggle("pending", !done);
        links[key].title = done ? "" : "written when the job finishes";
      }
      links.report.classList.toggle("pending", !job || job.state === "queued");
    }

    function renderBest() {
      if (!job || !job.best) {
        bestBox.replaceChildren(el("p", {class: "muted", text: "No candidate evaluated yet."}));
        return;
      }
      const b = job.best;
      const rows = Object.entries(b.values || {}).map(([k, v]) => [k, fmt(v)]);
      if (isNumber(b.params) && !(b.values && "params" in b.values)) rows.push(["params", fmt(b.params)]);
      for (const [k, v] of Object.entries(job.test_scores || {})) {
        if (typeof v !== "object") rows.push([k, fmt(v)]);
      }
      bestBox.replaceChildren(
        el("p", {class: "network", text: b.network || ""}),
        b.description ? el("p", {class: "muted small", text: b.description}) : null,
        el("dl", {class: "values"}, rows.map(([k, v]) => el("div", {}, el("dt", {text: k}), el("dd", {text: v})))));
    }

    /* --- the plots --- */

    function headline() {
      return (job && job.headline) || "val_accuracy";
    }

    function candidateY(c) {
      const key = headline();
      if (isNumber(c[key])) return c[key];
      if (c.fitness && isNumber(c.fitness[key])) return c.fitness[key];
      return null;
    }

    function hoverText(c) {
      const lines = [`<b>#${c.index}</b> · generation ${c.generation}${c.cached ? " · cached" : ""}`,
        wrapNetwork(c.network, 56), `${escapeHtml(headline())}: ${fmt(candidateY(c))}`, `params: ${fmt(c.params)}`];
      for (const [k, v] of Object.entries(c.fitness || {})) {
        if (k !== headline() && k !== "params") lines.push(`${escapeHtml(k)}: ${fmt(v)}`);
      }
      if (isNumber(c.val_loss)) lines.push(`val_loss: ${fmt(c.val_loss)}`);
      if (isNumber(c.flops)) lines.push(`flops: ${fmt(c.flops)}`);
      return lines.join("<br>");
    }

    function layout(extra) {
      return {autosize: true, height: 340, margin: {l: 56, r: 16, t: 28, b: 48}, font: PLOT_FONT,
        paper_bgcolor: "#ffffff", plot_bgcolor: "#fbfcfd", hovermode: "closest",
        legend: {orientation: "h", x: 0, y: -0.2, xanchor: "left", yanchor: "top"},
        hoverlabel: {align: "left", bgcolor: "#ffffff", bordercolor: "#9aa5b1",
          font: {family: PLOT_FONT.family, size: 12, color: "#1f2933"}},
        ...extra};
    }

    function convergenceData() {
      const rows = Array.from(generations.values()).sort((a, b) => a.gen - b.gen);
      if (objectiveColumn === null && rows.length) objectiveColumn = findObjectiveColumn(rows[0]);
      const col = objectiveColumn || "value";
      const x = rows.map((r) => r.gen);
      const data = [
        {type: "scatter", mode: "lines+markers", name: `${col} max`, x, y: rows.map((r) => r[`${col}_max`]),
          line: {color: "#1f77b4", width: 2}, marker: {size: 6}},
        {type: "scatter", mode: "lines+markers", name: `${col} mean`, x, y: rows.map((r) => r[`${col}_avg`]),
          line: {color: "#ff7f0e", width: 2, dash: "dot"}, marker: {size: 5}},
      ];
      const hv = rows.some((r) => isNumber(r.hypervolume));
      if (hv) {
        data.push({type: "scatter", mode: "lines+markers", name: "hypervolume", x, y: rows.map((r) => r.hypervolume),
          yaxis: "y2", line: {color: "#2ca02c", width: 2}, marker: {size: 5}});
      }
      const extra = {height: 380, margin: {l: 56, r: hv ? 56 : 16, t: 28, b: 96},
        xaxis: {title: {text: "generation"}, dtick: rows.length <= 12 ? 1 : undefined, zeroline: false},
        yaxis: {title: {text: col}, zeroline: false}};
      if (hv) {
        extra.yaxis2 = {title: {text: "hypervolume"}, overlaying: "y", side: "right", showgrid: false, zeroline: false};
      }
      return [data, layout(extra)];
    }

    function findObjectiveColumn(row) {
      const names = (job && job.objectives) || [];
      if (names.length) {
        for (const key of [names[0], `val_${names[0]}`]) if (`${key}_max` in row) return key;
      }
      const first = Object.keys(row).find((k) => k.endsWith("_max"));
      return first ? first.slice(0, -4) : null;
    }

    function scatterData() {
      const ok = Array.from(candidates.values())
        .filter((c) => c.status === "ok" && isNumber(c.params) && c.params > 0 && candidateY(c) !== null)
        .sort((a, b) => a.index - b.index);
      const data = [{type: "scatter", mode: "markers", name: "candidates", x: ok.map((c) => c.params),
        y: ok.map(candidateY), customdata: ok.map((c) => c.index), text: ok.map(hoverText),
        hovertemplate: "%{text}<extra></extra>",
        marker: {size: 9, opacity: 0.85, color: ok.map((c) => c.generation), colorscale: "Viridis",
          line: {width: 0.5, color: "#ffffff"}, showscale: ok.length > 0,
          colorbar: {title: {text: "gen"}, thickness: 10, len: 0.8, outlinewidth: 0,
            dtick: ok.reduce((most, c) => Math.max(most, c.generation || 0), 0) <= 10 ? 1 : undefined}}}];
      const best = bestCandidate(ok);
      data.push({type: "scatter", mode: "markers", name: "best", x: best ? [best.params] : [],
        y: best ? [candidateY(best)] : [], customdata: best ? [best.index] : [], text: best ? [hoverText(best)] : [],
        hovertemplate: "<b>best</b> %{text}<extra></extra>",
        marker: {symbol: "star", size: 16, color: "#d62728", line: {width: 1, color: "#ffffff"}}});
      const extra = {height: 380, xaxis: {title: {text: "parameters"}, type: "log", zeroline: false},
        yaxis: {title: {text: headline()}, zeroline: false}, showlegend: false};
      return [data, layout(extra)];
    }

    function bestCandidate(ok) {
      if (!job || !job.best) return null;
      const matching = ok.filter((c) => c.network === job.best.network && c.params === job.best.params);
      if (!matching.length) return null;
      return matching.reduce((a, b) => (candidateY(b) > candidateY(a) ? b : a));
    }

    function setupPlots() {
      if (!plotting) {
        convergence.replaceChildren(el("p", {class: "error", text: "Plotly did not load (static/plotly.min.js)."}));
        return;
      }
      Plotly.newPlot(convergence, ...convergenceData(), PLOT_CONFIG);
      Plotly.newPlot(scatter, ...scatterData(), PLOT_CONFIG);
      document.getElementById("scatter-title").textContent = `${headline()} vs parameters`;
      scatter.on("plotly_hover", showCandidate);
      scatter.on("plotly_click", showCandidate);
    }

    function showCandidate(event) {
      const point = event && event.points && event.points[0];
      const c = point ? candidates.get(point.customdata) : null;
      if (!c) return;
      const rows = [["generation", c.generation], [headline(), candidateY(c)], ["params", c.params]];
      for (const [k, v] of Object.entries(c.fitness || {})) if (k !== headline() && k !== "params") rows.push([k, v]);
      for (const k of ["val_loss", "flops"]) if (isNumber(c[k])) rows.push([k, c[k]]);
      detail.className = "candidate";
      detail.replaceChildren(
        el("p", {}, el("b", {text: `#${c.index}`}), c.cached ? " (cached)" : ""),
        el("p", {class: "network", text: c.network || ""}),
        c.description ? el("p", {class: "muted small", text: c.description}) : null,
        el("dl", {class: "values"},
          rows.map(([k, v]) => el("div", {}, el("dt", {text: k}), el("dd", {text: fmt(v)})))));
    }

    function draw() {
      drawTimer = null;
      if (!alive || !plotting || !job) return;
      Plotly.react(convergence, ...convergenceData(), PLOT_CONFIG);
      Plotly.react(scatter, ...scatterData(), PLOT_CONFIG);
    }

    function scheduleDraw() {
      if (drawTimer === null) drawTimer = setTimeout(draw, 150);
    }

    /* --- the events --- */

    function connect() {
      if (source) source.close();
      unwatch();
      const events = new EventSource(withToken(`${base}/events`));
      source = events;
      const parse = (handler) => (event) => {
        if (source !== events) return;
        let data;
        try {
          data = JSON.parse(event.data);
        } catch (e) {
          return;
        }
        handler(data);
      };
      events.addEventListener("state", parse((data) => setJob(data)));
      events.addEventListener("generation", parse((row) => {
        if (!isNumber(row.gen)) return;
        generations.set(row.gen, row);
        scheduleDraw();
      }));
      events.addEventListener("candidate", parse((c) => {
        const key = isNumber(c.index) ? c.index : candidates.size;
        c.index = key;
        if (candidates.has(key)) return;
        candidates.set(key, c);
        scheduleDraw();
      }));
      events.addEventListener("end", parse((data) => {
        events.close();
        source = null;
        if (data.state === "deleted") {
          gone();
          return;
        }
        setJob(data);
        say("");
        watch();
      }));
      events.addEventListener("open", () => say(""));
      events.onerror = () => {
        if (source !== events) return;
        if (events.readyState === EventSource.CLOSED) {
          source = null;
          say("Lost the live connection; checking again…");
          watch();
        } else {
          say("Lost the live connection; reconnecting…");
        }
      };
    }

    /** With no live connection: look at the job now and then, and reconnect if it runs again
     * (resumed elsewhere, or the connection dropped while it ran). */
    function watch() {
      unwatch();
      pollTimer = setTimeout(async () => {
        if (!alive || source) return;
        const controller = new AbortController();
        polling = controller;
        try {
          const response = await api(base, {signal: controller.signal});
          if (!alive || source || controller.signal.aborted) return;
          if (response.ok) {
            const next = await response.json();
            if (ACTIVE.includes(next.state)) {
              connect();
              return;
            }
            setJob(next);
            say("");
          } else if (response.status === 404) {
            gone();
            return;
          }
        } catch (e) {
          if (controller.signal.aborted) return;
          say("The server does not answer; retrying…");
        } finally {
          if (polling === controller) polling = null;
        }
        watch();
      }, JOB_POLL_MS);
    }

    function unwatch() {
      clearTimeout(pollTimer);
      pollTimer = null;
      if (polling) polling.abort();
      polling = null;
    }

    function gone() {
      say("This job has been deleted.");
      stateBadge.className = "badge state-deleted";
      stateBadge.textContent = "deleted";
      for (const button of [stopButton, resumeButton, deleteButton]) button.disabled = true;
    }

    /* --- the buttons --- */

    async function act(button, method, path, after) {
      button.disabled = true;
      say("");
      try {
        const response = await api(path, {method});
        if (!alive) return;
        if (response.ok) {
          await after(response);
        } else {
          say(`${button.textContent} failed: ${await errorMessage(response)}`);
          if (job) setJob(job);
        }
      } catch (e) {
        say(`${button.textContent} failed: the server does not answer`);
        if (job) setJob(job);
      }
    }

    stopButton.addEventListener("click", () => act(stopButton, "POST", `${base}/stop`, async (response) => {
      setJob(await response.json());
    }));
    resumeButton.addEventListener("click", () => act(resumeButton, "POST", `${base}/resume`, async (response) => {
      setJob(await response.json());
      connect();
    }));
    deleteButton.addEventListener("click", () => {
      if (!window.confirm(`Delete job “${(job && job.name) || id}” and all its files?`)) return;
      const watching = pollTimer !== null || polling !== null;
      unwatch();  // no look at the job while it goes: that would be a 404
      act(deleteButton, "DELETE", base, async () => {
        location.hash = "#/";
      }).then(() => {
        if (alive && watching && !source) watch();
      });
    });

    /* --- start --- */

    (async () => {
      try {
        const response = await api(base);
        if (!alive) return;
        if (!response.ok) {
          root.replaceChildren(el("section", {class: "card"}, el("h1", {text: "No such job"}),
            el("p", {text: `${id}: ${await errorMessage(response)}`}),
            el("p", {}, el("a", {href: "#/", text: "← all jobs"}))));
          return;
        }
        setJob(await response.json());
        connect();
      } catch (e) {
        say("The server does not answer; retrying…");
        watch();
      }
    })();

    return () => {
      alive = false;
      if (source) source.close();
      source = null;
      unwatch();
      clearTimeout(drawTimer);
      if (plotting) {
        Plotly.purge(convergence);
        Plotly.purge(scatter);
      }
    };
  }

  /* ---------- start ---------- */

  async function start() {
    const params = new URLSearchParams(location.search);
    if (params.get("token")) {  // a shared link with ?token=: keep it, and take it out of the address bar
      setToken(params.get("token"));
      params.delete("token");
      const rest = params.toString();
      history.replaceState(null, "", location.pathname + (rest ? `?${rest}` : "") + location.hash);
    }
    document.getElementById("token-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const value = document.getElementById("token-input").value.trim();
      if (!value) return;
      setToken(value);
      document.getElementById("token-input").value = "";
      route();
    });
    document.getElementById("token-forget").addEventListener("click", () => {
      setToken("");
      route();
    });
    const view = document.getElementById("view");
    for (;;) {
      try {
        const response = await fetch("api/options");
        if (response.ok) {
          app.options = await response.json();
          break;
        }
        view.replaceChildren(el("p", {class: "error", text: `The server answered ${response.status} to api/options.`}));
      } catch (e) {
        view.replaceChildren(el("p", {class: "error", text: "The server does not answer; retrying…"}));
      }
      await new Promise((resolve) => setTimeout(resolve, 3000));
    }
    window.addEventListener("hashchange", route);
    route();
  }

  start();
})();
