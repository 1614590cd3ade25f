// signalbank staff page: log in, open a customer, draw what the worker's JSON endpoints answer.
// No framework, nothing from another origin. Every value from the server is set with textContent
// (or as an SVG attribute), never parsed as HTML. The login (user and token) stays in this tab's
// sessionStorage and goes with each read as `Authorization: Basic`; the server checks both.
"use strict";

(function () {
  const LOGIN_KEY = "signalbank.login";
  const SVG = "http://www.w3.org/2000/svg";
  const $ = (id) => document.getElementById(id);
  // The API is next to the page's folder (relative, so a reverse proxy may serve both under a prefix).
  const API = new URL("../", document.baseURI);
  const hashId = () => {
    try { return decodeURIComponent(location.hash.slice(1)); } catch (_) { return ""; }
  };

  // ---- login -------------------------------------------------------------------------------

  function savedLogin() {
    try {
      const login = JSON.parse(sessionStorage.getItem(LOGIN_KEY) || "null");
      return login && typeof login.user === "string" && typeof login.token === "string" ? login : null;
    } catch (_) {
      return null;
    }
  }

  function basic(login) {
    const bytes = new TextEncoder().encode(login.user + ":" + login.token);
    let binary = "";
    bytes.forEach((b) => { binary += String.fromCharCode(b); });
    return "Basic " + btoa(binary);
  }

  // GET a JSON path with the login (none: a reverse proxy in front may log us in by its header).
  async function api(path, login) {
    const headers = { Accept: "application/json" };
    const given = login === undefined ? savedLogin() : login;
    if (given) headers.Authorization = basic(given);
    const response = await fetch(new URL(path, API), { headers, credentials: "omit", cache: "no-store" });
    let body = null;
    try { body = await response.json(); } catch (_) { body = null; }
    return { status: response.status, body };
  }

  function notice(text, kind) {
    const box = $("notice");
    box.textContent = text;
    box.className = "notice " + (kind || "error");
    box.hidden = !text;
  }

  function refusal(answer) {
    const why = answer.body && answer.body.error ? answer.body.error : "refused";
    return `Refused (${answer.status}): ${why}`;
  }

  function showLoggedIn(user) {
    $("who-user").textContent = user;
    $("who").hidden = false;
    $("login").hidden = true;
    $("search").hidden = false;
  }

  function showLogin(message) {
    $("who").hidden = true;
    $("search").hidden = true;
    $("customer").hidden = true;
    $("login").hidden = false;
    if (message) notice(message);
  }

  async function checkSession() {
    const answer = await api("session");
    if (answer.status === 200) {
      showLoggedIn(answer.body.user);
      return true;
    }
    sessionStorage.removeItem(LOGIN_KEY);
    showLogin(answer.status === 403 ? refusal(answer) : "");
    return false;
  }

  async function logIn(event) {
    event.preventDefault();
    const login = { user: $("login-user").value.trim(), token: $("login-token").value.trim() };
    const answer = await api("session", login);
    if (answer.status !== 200) {
      showLogin(refusal(answer));
      return;
    }
    sessionStorage.setItem(LOGIN_KEY, JSON.stringify(login));
    $("login-token").value = "";
    notice("");
    showLoggedIn(answer.body.user);
    if (hashId()) openCustomer(hashId());
  }

  function logOut() {
    sessionStorage.removeItem(LOGIN_KEY);
    clearCustomer();
    showLogin("");
  }

  // ---- small builders ----------------------------------------------------------------------

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function money(value) {
    if (typeof value !== "number") return "–";
    return value.toLocaleString("en", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }

  function when(iso) {
    if (!iso) return "–";
    return String(iso).replace("T", " ").replace(/:\d\d(\.\d+)?(Z|\+00:00)$/, " UTC");
  }

  function shown(value) {
    if (value === null || value === undefined) return "–";
    if (Array.isArray(value)) return value.length ? value.join(", ") : "none";
    if (typeof value === "boolean") return value ? "yes" : "no";
    if (typeof value === "object") return JSON.stringify(value);
    return String(value);
  }

  function fact(list, name, value, id) {
    const dt = el("dt", name);
    const dd = el("dd", value);
    if (id) dd.id = id;
    list.append(dt, dd);
  }

  // ---- the card ----------------------------------------------------------------------------

  function renderCard(view, explanation) {
    const p = view.profile || {};
    $("card-id").textContent = view.customer_id;
    $("card-segment").textContent = p.segment ? `${p.segment} · KYC ${p.kyc_risk || "?"}` : "";
    $("card-as-of").textContent = `as of ${when(view.as_of)} · rules ${view.ruleset_version}`;
    const facts = $("card-facts");
    clear(facts);
    const tier = view.tier;
    if (tier) {
      const since = tier.since || null;
      fact(facts, "Tier", `${tier.tier} (rank ${tier.rank})` + (since ? ` since ${when(since)}` : ""), "card-tier");
    } else {
      fact(facts, "Tier", "none yet", "card-tier");
    }
    const value = typeof p.value_score === "number"
      ? `${p.value_score.toFixed(1)} / 100 (contribution ${shown(p.value_contribution)}, loyalty ${shown(p.value_loyalty)}, potential ${shown(p.value_potential)})`
      : "–";
    fact(facts, "Value", value, "card-value");
    fact(facts, "Marketing consent", p.marketing_consent ? "yes" : "no", "card-consent");
    let complaints = String(p.complaints_open ?? 0);
    if (p.complaints_open > 0) {
      complaints += ` open (oldest ${p.oldest_open_complaint_ref || "?"}, ${p.oldest_open_complaint_hours} h)`;
    }
    fact(facts, "Open complaints", complaints, "card-complaints");
    let accounts = "";
    if (typeof p.accounts_count === "number") {
      accounts = ` across ${p.accounts_count} account${p.accounts_count === 1 ? "" : "s"}`;
      if (p.accounts_count > 1) {
        accounts += ` (largest ${money(p.balance_max_account)}, smallest ${money(p.balance_min_account)})`;
      }
    }
    fact(facts, "Total balance", money(p.balance_last) + accounts, "card-balance");
    fact(facts, "Average balance, 90 days", money(p.balance_avg_90d));
    fact(facts, "Products", shown(p.products));
    fact(facts, "Days since activity", shown(p.days_since_activity), "card-quiet");
    fact(facts, "Tenure (days)", shown(p.tenure_days));

    const tags = $("card-tags");
    clear(tags);
    const held = Array.isArray(view.tags) ? view.tags : (explanation ? explanation.tags : []);
    if (!Array.isArray(view.tags) && explanation) tags.title = "the tags the rules give now";
    const since = view.tags_since || {};
    for (const tag of held || []) {
      const chip = el("li", undefined, "chip");
      chip.append(el("span", tag, "tag"));
      if (since[tag]) chip.append(el("span", `since ${String(since[tag]).slice(0, 10)}`, "since"));
      tags.append(chip);
    }
    if (!held || !held.length) tags.append(el("li", "none", "muted"));

    const churn = view.churn || {};
    const probability = typeof churn.probability === "number" ? `${(churn.probability * 100).toFixed(1)} %` : "–";
    $("card-churn").textContent = `${probability} · level ${churn.level || "none"}`;
    $("card-churn").className = "level-" + (churn.level || "none");
    const reasons = $("card-reasons");
    clear(reasons);
    for (const reason of churn.reasons || []) reasons.append(el("li", reason));
  }

  // ---- the chart: inline SVG, inflow above the axis, outflow below ---------------------------

  function renderFlows(flows) {
    const box = $("flows-chart");
    clear(box);
    const points = flows.points || [];
    const width = 900, height = 240, left = 70, right = 10, top = 10, bottom = 28;
    const mid = top + (height - top - bottom) / 2;
    const half = (height - top - bottom) / 2;
    const days = points.reduce((n, pt) => n + pt.days, 0) || 1;
    const peak = Math.max(1, ...points.map((pt) => Math.max(pt.inflow, pt.outflow)));
    const dayWidth = (width - left - right) / days;
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", "money in and out per day over 90 days");
    svg.setAttribute("data-peak", String(peak));
    const node = (tag, attrs, text) => {
      const n = document.createElementNS(SVG, tag);
      for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
      if (text !== undefined) n.textContent = text;
      return n;
    };
    svg.append(node("line", { x1: left, x2: width - right, y1: mid, y2: mid, class: "axis" }));
    svg.append(node("text", { x: left - 6, y: top + 10, class: "label end" }, `+${money(peak)}`));
    svg.append(node("text", { x: left - 6, y: mid + 4, class: "label end" }, "0"));
    svg.append(node("text", { x: left - 6, y: height - bottom, class: "label end" }, `−${money(peak)}`));
    let x = left;
    let boundary = null;  // where the weekly buckets end and the daily ones begin
    points.forEach((pt, i) => {
      if (boundary === null && pt.days === 1 && i > 0 && points[i - 1].days > 1) boundary = i;
    });
    for (const [i, pt] of points.entries()) {
      if (i === boundary) {
        svg.append(node("line", { x1: x, x2: x, y1: top, y2: height - bottom, class: "boundary" }));
        svg.append(node("text", { x: x - 4, y: top + 10, class: "label end" }, "by week"));
        svg.append(node("text", { x: x + 4, y: top + 10, class: "label" }, "by day"));
      }
      const w = Math.max(1, pt.days * dayWidth - 1);
      const inH = (pt.inflow / peak) * half, outH = (pt.outflow / peak) * half;
      const group = node("g", {
        class: "point", "data-start": pt.start, "data-days": pt.days,
        "data-inflow": pt.inflow, "data-outflow": pt.outflow,
      });
      group.append(node("title", {}, `${pt.start}${pt.days > 1 ? ` (${pt.days} days)` : ""}: in ${money(pt.inflow)}, out ${money(pt.outflow)}`));
      if (pt.inflow > 0) group.append(node("rect", { x, y: mid - inH, width: w, height: inH, class: "in" }));
      if (pt.outflow > 0) group.append(node("rect", { x, y: mid, width: w, height: outH, class: "out" }));
      svg.append(group);
      x += pt.days * dayWidth;
    }
    if (!flows.inflow_total && !flows.outflow_total) {
      svg.append(node("text", { x: (left + width) / 2, y: mid - 8, class: "label middle" }, "no money in or out in these 90 days"));
    }
    if (points.length) {
      svg.append(node("text", { x: left, y: height - 8, class: "label" }, points[0].start));
      svg.append(node("text", { x: width - right, y: height - 8, class: "label end" }, points[points.length - 1].start));
    }
    box.append(svg);
    $("flows-note").textContent =
      "Green: money in; red: money out. Daily for the last 30 days up to the latest event, weekly before (the store keeps older days by week).";
    $("flows-totals").textContent = `in ${money(flows.inflow_total)} · out ${money(flows.outflow_total)} · net ${money(flows.inflow_total - flows.outflow_total)}`;
  }

  // ---- timeline and outputs ----------------------------------------------------------------

  function renderRows(bodyId, emptyId, rows, cells) {
    const body = $(bodyId);
    clear(body);
    const list = Array.isArray(rows) ? rows : [];
    $(emptyId).hidden = list.length > 0;
    if (!Array.isArray(rows)) $(emptyId).textContent = "Not in this worker's answer.";
    for (const row of list) {
      const tr = el("tr");
      cells(row).forEach((value, i) => {
        const td = el("td", value, i === 0 ? "when" : "");
        tr.append(td);
      });
      if (row.topic) tr.title = row.topic;
      body.append(tr);
    }
  }

  function renderHistory(view) {
    renderRows("timeline-rows", "timeline-empty", view.timeline, (e) => [when(e.at), e.kind, e.summary || e.id]);
    renderRows("outputs-rows", "outputs-empty", view.outputs, (o) => [
      when(o.at), o.kind.replace(/_/g, " "), o.summary || o.id,
      o.response || (o.kind === "offer" ? "no answer yet" : "–"),
    ]);
  }

  // ---- the explanation ---------------------------------------------------------------------

  function readsList(reads) {
    const list = el("ul", undefined, "reads");
    for (const [name, value] of Object.entries(reads || {})) {
      const item = el("li");
      item.append(el("code", name), document.createTextNode(" = "), el("strong", shown(value)));
      list.append(item);
    }
    return list;
  }

  function verdictTable(title, verdicts, columns) {
    const wrap = el("div", undefined, "group");
    wrap.append(el("h3", `${title} (${verdicts.length})`));
    const table = el("table", undefined, "verdicts");
    const head = el("tr");
    for (const [name] of columns) head.append(el("th", name));
    const thead = el("thead");
    thead.append(head);
    table.append(thead);
    const body = el("tbody");
    for (const v of verdicts) {
      const tr = el("tr", undefined, v.fired || v.decision === "chosen" ? "fired" : "");
      tr.dataset.rule = v.id;
      for (const [, cell] of columns) {
        const td = el("td");
        const value = cell(v);
        if (value instanceof Node) td.append(value); else td.textContent = shown(value);
        tr.append(td);
      }
      body.append(tr);
    }
    table.append(body);
    wrap.append(table);
    return wrap;
  }

  function renderExplanation(x) {
    $("explain-summary").textContent =
      `rules' score ${x.score.toFixed(3)} · level ${x.level} · action ${x.action || "none"}` +
      (x.top_reason ? ` · top reason: ${x.top_reason}` : "") +
      ` · qualifies for tier ${x.qualifies_for || "none"}` +
      (x.chosen && x.chosen.length ? ` · offers chosen: ${x.chosen.join(", ")}` : "");
    const groups = $("explain-groups");
    clear(groups);
    const rule = [
      ["rule", (v) => v.id], ["fired", (v) => (v.fired ? "yes" : "no")], ["detail", (v) => v.detail],
      ["values read", (v) => readsList(v.reads)], ["message", (v) => v.message],
    ];
    groups.append(verdictTable("Churn rules", x.churn || [], rule));
    groups.append(verdictTable("Signal rules", x.signals || [], rule));
    groups.append(verdictTable("Tiers", x.tiers || [], rule));
    groups.append(verdictTable("Offers", x.offers || [], [
      ["offer", (v) => v.id], ["decision", (v) => v.decision + (v.suppressed_reason ? ` (${v.suppressed_reason})` : "")],
      ["propensity", (v) => v.propensity.toFixed(3)], ["score", (v) => v.score.toFixed(3)],
      ["values read", (v) => readsList(v.reads)],
    ]));
    if (x.errors && x.errors.length) groups.append(el("p", `errors: ${x.errors.join("; ")}`, "notice error"));
  }

  // ---- opening a customer ------------------------------------------------------------------

  function clearCustomer() {
    $("customer").hidden = true;
    for (const id of ["card-facts", "card-tags", "card-reasons", "flows-chart", "timeline-rows", "outputs-rows", "explain-groups"]) {
      clear($(id));
    }
  }

  async function openCustomer(id) {
    if (!id) return;
    $("customer-id").value = id;
    const at = $("as-of").value.trim();
    const query = at ? `?at=${encodeURIComponent(at)}` : "";
    const base = `customers/${encodeURIComponent(id)}`;
    notice("Loading …", "info");
    const [view, explanation, flows] = await Promise.all([
      api(base + query), api(`${base}/explain${query}`), api(`${base}/flows${query}`),
    ]);
    const refused = [view, explanation, flows].find((a) => a.status === 401 || a.status === 403);
    if (refused) {
      clearCustomer();
      if (refused.status === 401) {
        sessionStorage.removeItem(LOGIN_KEY);
        showLogin(refusal(refused));
      } else {
        notice(refusal(refused));
      }
      return;
    }
    if (view.status !== 200) {
      clearCustomer();
      notice(view.body && view.body.error ? view.body.error : `error ${view.status}`);
      return;
    }
    notice("");
    renderCard(view.body, explanation.status === 200 ? explanation.body : null);
    if (flows.status === 200) renderFlows(flows.body); else clear($("flows-chart"));
    renderHistory(view.body);
    if (explanation.status === 200) renderExplanation(explanation.body);
    $("customer").hidden = false;
    if (hashId() !== id) history.replaceState(null, "", "#" + encodeURIComponent(id));
  }

  document.addEventListener("DOMContentLoaded", async () => {
    $("login-form").addEventListener("submit", logIn);
    $("logout").addEventListener("click", logOut);
    $("search-form").addEventListener("submit", (event) => {
      event.preventDefault();
      openCustomer($("customer-id").value.trim());
    });
    if (await checkSession() && hashId()) openCustomer(hashId());
  });
})();
