"use strict";
// The job page: trials and status arrive over server-sent events; plots redraw as they come.
// Importance, parallel coordinates and the Pareto front come from /api/v1/jobs/{id}/analysis.
document.addEventListener("DOMContentLoaded", () => {
  const job = JSON.parse(document.getElementById("job-data").textContent);
  const first = job.objectives[0];
  const minimize = first.direction === "minimize";
  const better = (a, b) => (minimize ? a < b : a > b);
  const trials = [];
  const $ = (id) => document.getElementById(id);
  const FINISHED = ["succeeded", "failed", "cancelled"];
  let analysis = null, analysisAt = 0, analysisCount = -1, drawPending = false;

  function badge(provenance) {
    const span = document.createElement("span");
    span.className = `prov prov-${provenance}`;
    span.textContent = provenance;
    return span;
  }

  function cell(row, content, cls) {
    const td = row.insertCell();
    if (cls) td.className = cls;
    if (content instanceof Node) td.appendChild(content); else td.textContent = content;
    return td;
  }

  function addRow(t) {
    const row = $("trials").tBodies[0].insertRow();
    row.dataset.number = t.number;
    cell(row, t.number, "num").dataset.value = t.number;
    const status = document.createElement("span");
    status.className = `status status-${t.status}`;
    status.textContent = t.feasible || t.status !== "ok" ? t.status : "ok (infeasible)";
    cell(row, status).dataset.value = t.status;
    const values = cell(row, (t.values || []).map(Plots.fmt).join(", ") || "–", "num");
    values.dataset.value = t.values ? t.values[0] : "";
    cell(row, badge(t.provenance)).dataset.value = t.provenance;
    cell(row, t.origin);
    cell(row, Object.entries(t.params).map(([k, v]) => `${k}=${v}`).join(", "), "config");
    cell(row, t.cost_s.toFixed(3), "num").dataset.value = t.cost_s;
    const log = cell(row, (t.log || "").slice(-120), "log");
    log.title = t.log || "";
  }

  function scored() {
    return trials.filter((t) => t.values && t.feasible);
  }

  function drawBestSoFar() {
    const points = [], line = [];
    let best = null;
    for (const t of scored()) {
      const v = t.values[0];
      points.push({x: t.number, y: v, title: `trial ${t.number}: ${Plots.fmt(v)}`});
      if (best === null || better(v, best)) {
        if (best !== null) line.push({x: t.number, y: best});
        best = v;
        line.push({x: t.number, y: v});
      }
    }
    if (best !== null) line.push({x: trials[trials.length - 1].number, y: best});
    Plots.xy($("plot-best"), {points, line, xLabel: "trial", yLabel: `${first.metric} (${provenanceWords()})`});
  }

  function provenanceWords() {
    return Array.from(new Set(trials.map((t) => t.provenance))).join(", ") || "no trials";
  }

  function drawSummary() {
    const kinds = Array.from(new Set(trials.map((t) => t.provenance)));
    const note = $("numbers-are");
    note.replaceChildren();
    if (kinds.length) {
      note.append("Numbers on this page are ");
      kinds.forEach((k, i) => { if (i) note.append(", "); note.appendChild(badge(k)); });
      note.append(` (${job.device}).`);
    }
    const pool = scored();
    const box = $("best");
    box.replaceChildren();
    if (!pool.length) { box.textContent = trials.length ? "No trial has passed yet." : "Waiting for trials…"; return; }
    const best = pool.reduce((a, b) => (better(b.values[0], a.values[0]) ? b : a));
    const value = document.createElement("span");
    value.className = "value";
    value.textContent = `${Plots.fmt(best.values[0])} ${first.metric}`;
    box.append("Best so far: ", value, " ", badge(best.provenance), ` trial ${best.number} · `);
    box.append(Object.entries(best.params).map(([k, v]) => `${k}=${v}`).join(", "));
    const speedup = job.result && job.result.speedup_vs_baseline;
    if (speedup) box.append(` · ${speedup.toFixed(3)}× the torch baseline`);
  }

  function drawAnalysis() {
    if (!analysis) return;
    const imp = analysis.importance;
    Plots.bars($("plot-importance"), imp.params.map((p) => ({label: p.name, value: p.importance})),
               imp.note || "No parameter varied among successful trials.");
    Plots.parallel($("plot-parallel"), analysis.parallel, first.metric, minimize);
    if (analysis.pareto) drawPareto();
  }

  function drawPareto() {
    const section = $("pareto-section");
    const xs = $("pareto-x"), ys = $("pareto-y");
    if (section.hidden) {
      section.hidden = false;
      job.objectives.forEach((o, i) => { xs.add(new Option(o.metric, i)); ys.add(new Option(o.metric, i)); });
      ys.value = 1;
      xs.onchange = ys.onchange = drawPareto;
    }
    const xi = +xs.value, yi = +ys.value;
    const front = new Set(analysis.pareto.front);
    const label = (p) => `trial ${p.number}: ` + p.values.map((v, i) => `${job.objectives[i].metric} ${Plots.fmt(v)}`).join(", ");
    const points = analysis.pareto.points.filter((p) => !front.has(p.number))
      .map((p) => ({x: p.values[xi], y: p.values[yi], title: label(p)}));
    const line = analysis.pareto.points.filter((p) => front.has(p.number))
      .map((p) => ({x: p.values[xi], y: p.values[yi]})).sort((a, b) => a.x - b.x);
    Plots.xy($("plot-pareto"), {points, line, highlight: "#c0392b",
                                xLabel: `${job.objectives[xi].metric} (${provenanceWords()})`,
                                yLabel: job.objectives[yi].metric});
  }

  async function refreshAnalysis(force) {
    const now = Date.now();
    if (!force && (now - analysisAt < 2500 || trials.length === analysisCount)) return;
    analysisAt = now;
    analysisCount = trials.length;
    const response = await fetch(`/api/v1/jobs/${job.id}/analysis`);
    if (response.ok) { analysis = await response.json(); drawAnalysis(); }
  }

  // Agent transcripts appear when the agent-calls route exists and the job made calls: each call's
  // prompt, response, cost, and what became of each proposal (linked to its trial).
  async function refreshAgentCalls() {
    const response = await fetch(`/api/v1/jobs/${job.id}/agent-calls`);
    if (!response.ok) return;
    const calls = await response.json();
    if (!Array.isArray(calls) || !calls.length) return;
    const list = $("agent-calls");
    list.replaceChildren(...calls.map(agentCall));
    $("agent-section").hidden = false;
  }

  function agentCall(call, i) {
    const details = document.createElement("details");
    details.className = "agent-call";
    const proposals = call.proposals || [];
    const tokens = (call.prompt_tokens || 0) + (call.completion_tokens || 0);
    const summary = document.createElement("summary");
    summary.textContent = [`call ${i + 1}`, call.agent && `${call.agent} agent`, call.model, `${tokens} tokens`,
                           call.latency_s !== undefined && `${call.latency_s.toFixed(1)} s`,
                           `${proposals.length} proposal(s)`, call.error && `error: ${call.error}`]
      .filter(Boolean).join(" · ");
    details.appendChild(summary);
    for (const message of call.messages || []) details.append(block(message.role, message.content));
    details.append(block("response", call.response || ""));
    if (proposals.length) details.appendChild(proposalTable(proposals));
    return details;
  }

  function block(title, text) {
    const wrap = document.createElement("div");
    const head = document.createElement("div");
    head.className = "muted";
    head.textContent = title;
    const pre = document.createElement("pre");
    pre.textContent = text;
    wrap.append(head, pre);
    return wrap;
  }

  function proposalTable(proposals) {
    const table = document.createElement("table");
    table.className = "data proposals";
    const head = table.createTHead().insertRow();
    for (const name of ["fate", "trial", "status", "values", "config", "note"]) {
      const th = document.createElement("th");
      th.textContent = name;
      head.appendChild(th);
    }
    const body = table.createTBody();
    for (const p of proposals) {
      const row = body.insertRow();
      cell(row, p.fate || "");
      if (p.trial !== undefined) {
        const link = document.createElement("a");
        link.href = "#trials";
        link.textContent = p.trial;
        link.onclick = () => document.querySelector(`#trials tr[data-number="${p.trial}"]`)?.scrollIntoView();
        cell(row, link, "num");
      } else cell(row, "–", "num");
      cell(row, p.trial_status || "");
      cell(row, (p.values || []).map(Plots.fmt).join(", "), "num");
      cell(row, Object.entries(p.params || {}).map(([k, v]) => `${k}=${v}`).join(", "), "config");
      cell(row, p.note || "");
    }
    return table;
  }

  function drawTransfer() {
    const sources = job.transfer || [];
    $("transfer-section").hidden = !sources.length;
    const body = $("transfer").tBodies[0];
    body.replaceChildren();
    for (const s of sources) {
      const row = body.insertRow();
      cell(row, s.name);
      cell(row, s.trials ? s.trials : "–", "num");
      cell(row, s.weight.toFixed(2), "num");
    }
  }

  function draw() {
    drawPending = false;
    drawSummary();
    drawTransfer();
    drawBestSoFar();
    refreshAnalysis(false);
  }

  function scheduleDraw() {
    if (!drawPending) { drawPending = true; setTimeout(draw, 150); }
  }

  function setStatus(s) {
    const badgeEl = document.querySelector("h1 [data-status]");
    badgeEl.className = `status status-${s.status}`;
    badgeEl.textContent = s.status;
    $("progress").max = s.budget_trials;
    $("progress").value = s.n_trials;
    $("progress-text").textContent = `${s.n_trials} / ${s.budget_trials} trials`;
    if (s.error) $("job-error").textContent = s.error;
  }

  const events = new EventSource(`/api/v1/jobs/${job.id}/events`);
  $("live").textContent = FINISHED.includes(job.status) ? "" : "live";
  events.addEventListener("trial", (e) => {
    const t = JSON.parse(e.data);
    trials.push(t);
    addRow(t);
    $("progress").value = trials.length;
    $("progress-text").textContent = `${trials.length} / ${$("progress").max} trials`;
    scheduleDraw();
  });
  events.addEventListener("status", (e) => setStatus(JSON.parse(e.data)));
  events.addEventListener("end", async () => {
    events.close();
    $("live").textContent = "";
    const response = await fetch(`/api/v1/jobs/${job.id}`);
    if (response.ok) Object.assign(job, await response.json());
    draw();
    await Promise.all([refreshAnalysis(true), refreshAgentCalls()]);
    document.body.dataset.jobDone = "1";
  });
  events.onerror = () => { if (events.readyState === EventSource.CLOSED) $("live").textContent = "disconnected"; };
  const cancel = $("cancel-job");
  if (cancel) {
    cancel.addEventListener("click", async () => {
      cancel.disabled = true;
      const token = document.querySelector('meta[name="csrf-token"]').content;
      const response = await fetch(`/api/v1/jobs/${job.id}/cancel`, {method: "POST", headers: {"X-CSRF-Token": token}});
      if (!response.ok) $("job-error").textContent = (await response.json()).detail;
    });
  }
  draw();
  refreshAgentCalls();
});
