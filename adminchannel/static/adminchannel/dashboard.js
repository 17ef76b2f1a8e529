/* Switchboard operator dashboard. Every command goes through the message API like any
   client's: auth.login on the user channel, then envelopes to POST /api/v1/admin/actions
   with the JWT. No framework, no network beyond this origin. */
(function () {
  "use strict";
  const CONFIG = JSON.parse(document.getElementById("dashboard-config").textContent);
  const STORE = "switchboard.dashboard";
  const OWNER_ROLES = ["owner", "primary_owner"];
  const $ = (id) => document.getElementById(id);

  /* ---- DOM helpers: text only, never HTML from data ---------------------------------- */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "onclick" || k === "onsubmit" || k === "onchange" || k === "oninput") {
        node.addEventListener(k.slice(2), v);
      } else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }
  function table(id, headers, rows) {
    return el("table", { id },
      el("thead", {}, el("tr", {}, headers.map((h) =>
        el("th", { class: h.endsWith("#") ? "num" : null }, h.replace(/#$/, ""))))),
      el("tbody", {}, rows.length ? rows.map((r) => el("tr", {}, r.map((c, i) =>
        el("td", { class: headers[i].endsWith("#") ? "num" : null }, c))))
        : el("tr", {}, el("td", { colspan: headers.length, class: "muted" }, "nothing"))));
  }
  function card(label, value, cls) {
    return el("div", { class: "card" }, el("div", { class: `value ${cls || ""}` }, value),
      el("div", { class: "label" }, label));
  }
  function when(iso) {
    if (!iso) return "–";
    const d = new Date(iso);
    return isNaN(d) ? String(iso) : d.toISOString().replace("T", " ").slice(0, 19);
  }
  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  /* ---- session ------------------------------------------------------------------------ */
  let session = null;
  try { session = JSON.parse(sessionStorage.getItem(STORE) || "null"); } catch (e) { session = null; }
  function save() { sessionStorage.setItem(STORE, JSON.stringify(session)); }
  function isDev() { return !!(session && session.is_developer); }
  function ownedTenants() {
    return (session ? session.memberships : []).filter((m) => OWNER_ROLES.includes(m.role))
      .map((m) => m.tenant);
  }
  function liveGrants() {
    const now = Date.now();
    const grants = (session && session.grants) || {};
    return Object.keys(grants).filter((slug) => new Date(grants[slug].expires_at) > now);
  }
  function tenantChoices() { return [...new Set([...ownedTenants(), ...liveGrants()])].sort(); }
  function currentTenant() {
    const choices = tenantChoices();
    if (session && choices.includes(session.tenant)) return session.tenant;
    return isDev() ? null : choices[0] || null;
  }

  class Refusal extends Error {
    constructor(error) {
      super(error.message || error.code);
      this.code = error.code;
      this.error = error;
    }
  }

  async function send(action, payload, { tenant = "platform", channel = "admin" } = {}) {
    const url = channel === "admin" ? "/api/v1/admin/actions?wait=15" : "/api/v1/actions?wait=15";
    const headers = { "Content-Type": "application/json" };
    if (session && session.token) headers.Authorization = `Bearer ${session.token}`;
    const response = await fetch(url, {
      method: "POST", headers, credentials: "omit",
      body: JSON.stringify({ api: "1", id: newId(), action, tenant, payload: payload || {} }),
    });
    const env = await response.json();
    if (env.status === "ok") return env.result;
    if (env.status === "pending") throw new Refusal({ code: "timeout", message: "No answer yet: the worker may be busy." });
    if (env.error && env.error.code === "unauthenticated" && session && action !== "auth.login") {
      session = null; sessionStorage.removeItem(STORE);
      showSignIn("Your session has ended: sign in again.");
    }
    throw new Refusal(env.error || { code: "internal_error", message: "no answer" });
  }

  function refusal(err, what) {
    if (err instanceof Refusal) {
      const todo = err.code === "not_implemented" ? " todo" : "";
      return el("p", { class: `refused${todo}`, "data-code": err.code },
        `${what}: refused by the admin channel: ${err.code} — ${err.message}`);
    }
    return el("p", { class: "refused", "data-code": "client" }, `${what}: ${err}`);
  }

  /* try an action; render its result or its refusal into `into` */
  async function section(into, title, action, payload, opts, render) {
    const box = el("div", { class: "section", "data-action": action });
    if (title) into.appendChild(el("h2", {}, title));
    into.appendChild(box);
    try {
      const result = await send(action, payload, opts);
      const shown = render(result, box);
      if (shown) box.appendChild(shown);
      return result;
    } catch (err) {
      box.appendChild(refusal(err, action));
      return null;
    }
  }

  /* ---- shell ---------------------------------------------------------------------------- */
  function showSignIn(message) {
    $("sign-in").hidden = false;
    $("content").hidden = true;
    $("nav").hidden = true;
    $("who").hidden = true;
    $("sign-in-error").textContent = message || "";
  }

  function showShell() {
    $("sign-in").hidden = true;
    $("content").hidden = false;
    const nav = $("nav");
    nav.replaceChildren();
    const roles = [isDev() ? "developer" : null, ownedTenants().length ? "owner" : null];
    for (const p of CONFIG.pages) {
      if (!p.for.some((r) => roles.includes(r))) continue;
      const href = p.name === "overview" ? "/dashboard/" : `/dashboard/${p.name}/`;
      nav.appendChild(el("a", { href, class: p.name === CONFIG.page ? "current" : null,
                                "data-page": p.name }, p.title));
    }
    nav.appendChild(el("a", { href: "/admin/", "data-page": "django-admin" }, "Django admin"));
    nav.hidden = false;
    $("who").hidden = false;
    $("who-email").textContent = `${session.email}${isDev() ? " (developer)" : ""}`;
    const select = $("tenant-select");
    select.replaceChildren();
    const choices = tenantChoices();
    if (isDev()) select.appendChild(el("option", { value: "" }, "platform"));
    for (const slug of choices) select.appendChild(el("option", { value: slug }, slug));
    select.value = currentTenant() || "";
    select.hidden = !choices.length;
    select.onchange = () => { session.tenant = select.value || null; save(); location.reload(); };
  }

  $("sign-in-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    $("sign-in-error").textContent = "";
    try {
      const result = await send("auth.login",
        { email: form.email.value, password: form.password.value },
        { channel: "user", tenant: "platform" });
      session = { token: result.access_token, email: result.email,
                  is_developer: result.is_developer, memberships: result.memberships,
                  grants: {}, tenant: null };
      save();
      form.reset();
      start();
    } catch (err) {
      $("sign-in-error").textContent = err instanceof Refusal ? err.message : String(err);
    }
  });

  $("sign-out").addEventListener("click", async () => {
    try { await send("auth.logout", {}, { channel: "user", tenant: "platform" }); } catch (e) { /* gone */ }
    session = null;
    sessionStorage.removeItem(STORE);
    location.href = "/dashboard/";
  });

  /* ---- pages ---------------------------------------------------------------------------- */
  const PAGES = {};

  PAGES.overview = async (root) => {
    const tenant = currentTenant();
    if (tenant) {
      await section(root, `Tenant ${tenant}, last 24 hours`, "dashboard.summary", {}, { tenant }, (s) => {
        const chain = s.audit_chain || {};
        return el("div", {},
          el("div", { class: "cards", id: "summary-cards" },
            card("actions ok", s.actions.ok), card("actions in error", s.actions.error, s.actions.error ? "bad" : ""),
            card("pending", s.actions.pending), card("members", s.members), card("owners", s.owners),
            card("subscriptions", s.subscriptions),
            card("audit chain", chain.ok ? "intact" : "BROKEN", chain.ok ? "ok" : "bad")),
          el("h2", {}, "Top actions"),
          table("top-actions", ["action", "count#"], s.top_actions.map((a) => [a.action, a.count])),
          el("h2", {}, "Errors by code"),
          table("errors-by-code", ["code", "count#"], Object.entries(s.errors_by_code)));
      });
    }
    if (isDev()) {
      await section(root, "Platform, last hour", "system.metrics", { minutes: 60 }, {}, (m) => {
        const calls = m.actions.reduce((n, a) => n + a.calls, 0);
        const errors = m.actions.reduce((n, a) => n + a.errors, 0);
        return el("div", { class: "cards", id: "platform-cards" },
          card("actions (1 h)", calls), card("errors (1 h)", errors, errors ? "bad" : ""),
          card("actions / min", (calls / m.minutes).toFixed(2)),
          card("distinct actions", m.actions.length));
      });
      await section(root, "Queues", "system.queues", {}, {}, (q) => queuesTable(q.queues));
    }
    if (!tenant && !isDev()) {
      root.appendChild(el("p", { class: "notice", id: "no-tenant" },
        "This account owns no tenant: the dashboard is for tenant owners and platform developers."));
    }
  };

  PAGES.index = async (root) => {
    let doc;
    try {
      doc = await (await fetch("/api/v1/index")).json();
    } catch (err) { root.appendChild(refusal(err, "index")); return; }
    const envs = Object.keys(CONFIG.release_policy);
    const matrix = CONFIG.release_matrix;
    const released = (a, e) => (matrix
      ? !!(matrix[`${a.name}@${a.version}`] || {})[e]
      : CONFIG.release_policy[e].includes(a.state));
    const states = [...new Set(doc.actions.map((a) => a.state))].sort();
    const search = el("input", { id: "index-search", placeholder: "name or summary" });
    const state = el("select", { id: "index-state" }, el("option", { value: "" }, "any state"),
      states.map((s) => el("option", { value: s }, s)));
    const channel = el("select", { id: "index-channel" }, el("option", { value: "" }, "any channel"),
      el("option", { value: "user" }, "user"), el("option", { value: "admin" }, "admin"));
    const count = el("span", { id: "index-count", class: "muted" });
    const holder = el("div");
    root.append(el("div", { class: "filters" }, el("label", {}, "Search ", search),
      el("label", {}, "State ", state), el("label", {}, "Channel ", channel), count), holder);
    const draw = () => {
      const q = search.value.toLowerCase();
      const rows = doc.actions.filter((a) => (!state.value || a.state === state.value)
        && (!channel.value || a.channel === channel.value)
        && (!q || a.name.includes(q) || a.summary.toLowerCase().includes(q)));
      count.textContent = `${rows.length} of ${doc.actions.length} actions`;
      holder.replaceChildren(table("index-table",
        ["action", "v", "channel", "scope", "state", "roles", ...envs.map((e) => `${e}`)],
        rows.map((a) => [a.name, a.version, a.channel, a.scope,
          el("span", { class: `state ${a.state}` }, a.state), a.roles.join(", "),
          ...envs.map((e) => (released(a, e) ? "✓" : "–"))])));
    };
    search.addEventListener("input", draw);
    state.addEventListener("change", draw);
    channel.addEventListener("change", draw);
    root.appendChild(el("p", { class: "muted" },
      matrix ? `Release per environment: from each environment's release manifest (this one: ${CONFIG.environment}).`
        : `Release per environment: the lifecycle states each environment runs (this one: ${CONFIG.environment}).`));
    draw();
  };

  function tenantDetail(root, tenant) {
    return (async () => {
      await section(root, `Tenant ${tenant}`, "tenants.get", {}, { tenant }, (t) => el("div", {},
        el("div", { class: "cards", id: "tenant-cards" }, card("name", t.name),
          card("primary owner", t.primary_owner_email || "–"), card("members", t.member_count)),
        el("p", {}, el("a", { id: "django-admin-link",
          href: `/admin/tenants/tenant/?q=${encodeURIComponent(tenant)}` },
          "Open this tenant in Django admin (config, overrides, subscriptions)"))));
      await section(root, "Owners", "tenants.owners.list", { limit: 50 }, { tenant }, (o) =>
        table("owners-table", ["email", "role", "since"], o.items.map((m) => [m.email, m.role, when(m.joined_at)])));
      await section(root, "Subscriptions", "connectors.list", { subscribed: true }, { tenant }, (c) =>
        table("subscriptions-table", ["connector", "since"], c.items.map((s) => [s.name, when(s.subscribed_at)])));
      await section(root, "Config (effective; overrides below)", "tenants.config.get", {}, { tenant }, (c) =>
        el("div", {}, el("pre", { id: "config-effective" }, JSON.stringify(c.effective, null, 2)),
          el("h2", {}, `Overrides (version ${c.version})`),
          el("pre", { id: "config-overrides" }, JSON.stringify(c.overrides, null, 2))));
    })();
  }

  PAGES.tenants = async (root) => {
    if (isDev()) {
      await section(root, "Tenants", "tenants.list", { limit: 200 }, {}, (list) =>
        table("tenants-table", ["slug", "name", "primary owner", "members#", "created"],
          list.items.map((t) => [t.slug, t.name, t.primary_owner_email || "–", t.member_count, when(t.created_at)])));
      const out = el("div", { id: "demo-reset-result" });
      const confirm = el("input", { type: "checkbox", id: "demo-reset-confirm" });
      root.appendChild(el("h2", {}, "Demo"));
      root.appendChild(el("form", { id: "demo-reset-form", onsubmit: async (e) => {
        e.preventDefault();
        out.replaceChildren();
        if (!confirm.checked) { out.appendChild(el("p", { class: "error" }, "Tick the box to confirm.")); return; }
        try {
          const r = await send("demo.reset", { confirm: "reset", tenants: ["acme", "beta"] });
          out.appendChild(el("p", { class: "notice" }, `Reset at ${when(r.reset_at)}: `,
            r.tenants.map((t) => `${t.tenant} (purged ${t.purged}, seeded ${t.seeded}) `)));
        } catch (err) { out.appendChild(refusal(err, "demo.reset")); }
      } },
      el("label", {}, confirm, " Purge the business data of acme and beta, reseed them and sign their users out"),
      el("button", { type: "submit", class: "danger", id: "demo-reset" }, "Reset the demo tenants"), out));
    }
    const tenant = currentTenant();
    if (tenant) await tenantDetail(root, tenant);
    else if (isDev()) root.appendChild(el("p", { class: "muted" }, "Promote yourself on a tenant (Super admin) to see its members and config."));
  };

  PAGES.logs = async (root) => {
    const tenant = currentTenant();
    if (isDev()) {
      await section(root, "Audit chain", "audit.admin.verify", {}, {}, (v) => chainState(v));
      const f = { code: el("input", { id: "errors-code", placeholder: "code" }),
                  tenant: el("input", { id: "errors-tenant", placeholder: "tenant" }),
                  action: el("input", { id: "errors-action", placeholder: "action" }) };
      const holder = el("div");
      const load = async () => {
        holder.replaceChildren();
        const payload = { limit: 50 };
        for (const [k, input] of Object.entries(f)) if (input.value) payload[k] = input.value.trim();
        await section(holder, null, "logs.errors.query", payload, {}, (list) =>
          table("errors-table", ["at", "code", "tenant", "action", "actor", "message", "trace"],
            list.items.map((e) => [when(e.at), e.code, e.tenant || "–", e.action || "–", e.actor || "–", e.message, e.trace_id])));
      };
      root.append(el("h2", {}, "Recent errors (central log)"),
        el("form", { class: "filters", onsubmit: (e) => { e.preventDefault(); load(); } },
          f.code, f.tenant, f.action, el("button", { type: "submit" }, "Filter")), holder);
      await load();
    }
    if (tenant) {
      if (!isDev()) {
        await section(root, "Audit chain", "dashboard.summary", {}, { tenant }, (s) => chainState(s.audit_chain));
      }
      await section(root, `Recent errors of ${tenant} (its action log)`, "logs.tenant.query",
        { status: "error", limit: 20 }, { tenant }, (list) =>
          table("tenant-errors-table", ["at", "code", "action", "actor", "trace"],
            list.items.map((e) => [when(e.at), e.code || "–", e.action || "–", e.actor || "–", e.trace_id || "–"])));
      const f = { action: el("input", { id: "audit-action", placeholder: "action" }),
                  actor: el("input", { id: "audit-actor", placeholder: "actor email" }) };
      const superOnly = el("input", { type: "checkbox", id: "audit-super" });
      const holder = el("div");
      const load = async () => {
        holder.replaceChildren();
        const payload = { limit: 50, super_admin_only: superOnly.checked };
        for (const [k, input] of Object.entries(f)) if (input.value) payload[k] = input.value.trim();
        await section(holder, null, "audit.admin.query", payload, { tenant }, (list) =>
          table("audit-table", ["#", "at", "actor", "role", "action", "outcome", "super admin", "reason"],
            list.items.map((e) => [e.id, when(e.at), e.actor || "system", e.actor_role || "–", e.action || "–",
              e.outcome, e.as_super_admin ? "yes" : "", e.reason || ""])));
      };
      root.append(el("h2", {}, `Admin audit log of ${tenant}`),
        el("form", { class: "filters", onsubmit: (e) => { e.preventDefault(); load(); } },
          f.action, f.actor, el("label", {}, superOnly, " as super admin only"),
          el("button", { type: "submit" }, "Filter")), holder);
      await load();
    }
  };

  function chainState(v) {
    return el("p", { id: "audit-chain", class: v.ok ? "ok" : "bad" },
      v.ok ? `Audit chain intact: ${v.checked} entries verified.`
        : `Audit chain BROKEN at entry ${v.first_bad_seq}: ${v.problem}`);
  }

  function queuesTable(queues) {
    return table("queues-table", ["queue", "channel", "kind", "messages#", "consumers#", "oldest waiting (s)#"],
      Object.entries(queues).map(([name, q]) => [name, q.channel, q.kind.replace("_", " "),
        q.messages === null ? (q.error || "?") : q.messages, q.consumers === null ? "?" : q.consumers,
        q.oldest_waiting_s === null ? "–" : q.oldest_waiting_s]));
  }

  PAGES.system = async (root) => {
    const stamp = el("p", { class: "muted", id: "system-updated" });
    const queues = el("div", { id: "queues" });
    const workers = el("div", { id: "workers" });
    root.append(stamp, el("h2", {}, "Queues"), queues, el("h2", {}, "Workers"), workers);
    const refresh = async () => {
      const q = el("div");
      const w = el("div");
      const [a, b] = await Promise.all([
        section(q, null, "system.queues", {}, {}, (r) => queuesTable(r.queues)),
        section(w, null, "system.workers", {}, {}, (r) => table("workers-table",
          ["worker", "channel", "queues", "threads#", "served#", "running now"],
          r.workers.map((x) => [x.hostname, x.channel || "?", x.queues.join(", "), x.concurrency ?? "?",
            Object.values(x.served || {}).reduce((n, v) => n + v, 0),
            x.running.length ? x.running.map((t) => `${t.task} ${t.tenant_schema || ""} ${t.record || ""}`).join("; ") : "idle"]))),
      ]);
      queues.replaceChildren(q);
      workers.replaceChildren(w);
      stamp.textContent = `Updated ${new Date().toISOString().slice(11, 19)} UTC; refreshes every 2 s.`;
      return a && b;
    };
    if (await refresh()) setInterval(refresh, 2000);
  };

  PAGES.charts = async (root) => {
    await section(root, null, "system.metrics", { minutes: 60 }, {}, (m) => {
      const start = new Date(m.since);
      start.setSeconds(0, 0);
      const minutes = [];
      for (let i = 0; i <= m.minutes; i++) minutes.push(new Date(start.getTime() + i * 60000));
      const key = (d) => d.toISOString().slice(0, 16);
      const index = new Map(minutes.map((d, i) => [key(d), i]));
      const top = m.actions.slice(0, 6).map((a) => a.action);
      const series = top.map((name) => ({ name, points: minutes.map((_, i) => [i, 0]) }));
      for (const p of m.series) {
        const k = top.indexOf(p.action);
        const i = index.get(key(new Date(p.minute)));
        if (k >= 0 && i !== undefined) series[k].points[i][1] = p.calls;
      }
      const labels = minutes.map((d) => d.toISOString().slice(11, 16));
      return el("div", {},
        el("h2", {}, "Actions per minute, last hour"),
        el("div", { id: "chart-calls" }, window.SBCharts.line(series, labels,
          { label: "Actions per minute, by action" })),
        el("h2", {}, "p95 latency per action (ms, acceptance to answer)"),
        el("div", { id: "chart-p95" }, window.SBCharts.bars(
          m.actions.filter((a) => a.p95_ms !== null).map((a) => ({ name: a.action, value: a.p95_ms })),
          { label: "p95 latency per action", unit: " ms" })),
        el("h2", {}, "Per action"),
        table("metrics-table", ["action", "calls#", "calls/min#", "errors/min#", "p50 ms#", "p95 ms#"],
          m.actions.map((a) => [a.action, a.calls, a.calls_per_min, a.errors_per_min, a.p50_ms ?? "–", a.p95_ms ?? "–"])));
    });
  };

  PAGES.release = async (root) => {
    const tenant = currentTenant();
    if (!tenant) {
      root.appendChild(el("p", { class: "muted" }, "Release requests are sent for a tenant you own or are promoted on."));
    }
    const opts = { tenant: tenant || "platform" };
    const requests = el("div", { id: "release-requests" });
    const status = await section(root, `Actions and their release here (${CONFIG.environment})`, "release.status",
      { limit: 200 }, opts, (r) =>
        table("release-table", ["action", "v", "state", "released", "code hash", "drift"],
          r.items.map((a) => [a.name, a.version, el("span", { class: `state ${a.state}` }, a.state),
            a.released ? "yes" : "no", a.code_hash || "–", a.drift ? "DRIFT" : ""])));
    const drawRequests = (list) => requests.replaceChildren(table("requests-table",
      ["action", "v", "environment", "status", "requested by", "at", "note"],
      list.map((q) => [q.action, q.version, q.environment, q.status, q.requester, when(q.requested_at), q.note])));
    root.append(el("h2", {}, "Release requests of this tenant"), requests);
    drawRequests(status && status.requests ? status.requests : []);
    const out = el("div", { id: "release-request-result" });
    const envs = Object.keys(CONFIG.release_policy);
    const form = el("form", { id: "release-request-form", onsubmit: async (e) => {
      e.preventDefault();
      out.replaceChildren();
      try {
        const r = await send("release.request", { action: form.elements.action.value,
          version: +form.elements.version.value, environment: form.elements.environment.value,
          note: form.elements.note.value }, opts);
        out.appendChild(el("p", { class: "notice", id: "release-requested" },
          `Request ${r.id}: ${r.action} v${r.version} in ${r.environment}, ${r.status}.`));
        const again = await send("release.status", { limit: 1 }, opts);
        drawRequests(again.requests || []);
      } catch (err) { out.appendChild(refusal(err, "release.request")); }
    } },
    el("label", {}, "Action ", el("input", { name: "action", id: "request-action", placeholder: "leads.create", required: true })),
    el("label", {}, "Version ", el("input", { name: "version", type: "number", value: 1, min: 1 })),
    el("label", {}, "Environment ", el("select", { name: "environment", id: "request-environment" },
      envs.map((e) => el("option", { value: e }, e)))),
    el("label", {}, "Note (at least 10 characters) ", el("input", { name: "note", id: "request-note", size: 60, required: true, minlength: 10 })),
    el("button", { type: "submit", id: "request-release" }, "Request a release"), out);
    root.append(el("h2", {}, "Request a release"), form);
  };

  PAGES.superadmin = async (root) => {
    const out = el("div", { id: "promote-result" });
    let tenants = [];
    await section(root, null, "tenants.list", { limit: 200 }, {}, (list) => { tenants = list.items; return null; });
    const form = el("form", { id: "promote-form", onsubmit: async (e) => {
      e.preventDefault();
      out.replaceChildren();
      const slug = form.tenant.value;
      try {
        const g = await send("superadmin.promote", { reason: form.reason.value,
          expires_in_minutes: +form.minutes.value }, { tenant: slug });
        session.grants = Object.assign(session.grants || {}, { [slug]: g });
        session.tenant = slug;
        save();
        out.appendChild(el("p", { class: "notice", id: "promoted" },
          `Super admin on ${g.tenant} until ${when(g.expires_at)}.`));
        drawGrants();
        showShell();
      } catch (err) { out.appendChild(refusal(err, "superadmin.promote")); }
    } },
    el("label", {}, "Tenant ", el("select", { name: "tenant", id: "promote-tenant" },
      tenants.map((t) => el("option", { value: t.slug }, `${t.slug} — ${t.name}`)))),
    el("label", {}, "Reason (at least 10 characters) ",
      el("input", { name: "reason", id: "promote-reason", size: 60, required: true, minlength: 10 })),
    el("label", {}, "Expires in (minutes) ",
      el("input", { name: "minutes", id: "promote-minutes", type: "number", value: 30, min: 1, max: 480 })),
    el("button", { type: "submit", id: "promote" }, "Promote me"), out);
    const grants = el("div", { id: "grants" });
    const drawGrants = () => {
      const live = liveGrants();
      grants.replaceChildren(table("grants-table", ["tenant", "reason", "expires", ""],
        live.map((slug) => {
          const g = session.grants[slug];
          return [slug, g.reason, when(g.expires_at), el("button", { type: "button", class: "plain",
            "data-demote": slug, onclick: async () => {
              try {
                await send("superadmin.demote", {}, { tenant: slug });
              } catch (err) { out.replaceChildren(refusal(err, "superadmin.demote")); return; }
              delete session.grants[slug];
              if (session.tenant === slug) session.tenant = null;
              save();
              drawGrants();
              showShell();
            } }, "Demote")];
        })));
    };
    root.append(el("h2", {}, "Promote yourself on a tenant"), form,
      el("h2", {}, "Your grants (this browser)"), grants);
    drawGrants();
  };

  /* ---- start ---------------------------------------------------------------------------- */
  async function start() {
    delete document.body.dataset.ready;
    if (!session || !session.token) { showSignIn(); return; }
    showShell();
    const root = $("page");
    root.replaceChildren();
    const render = PAGES[CONFIG.page] || PAGES.overview;
    try { await render(root); } catch (err) { root.appendChild(refusal(err, CONFIG.page)); }
    document.body.dataset.ready = "1";
  }
  start().then(() => { document.body.dataset.ready = "1"; });
})();
