// heidi-tray settings page. Keys and the launch secret are sent once, over a
// same-origin POST, and never come back: the page only ever sees them masked.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const REGIONS = ["AU", "EU", "UK", "US", "CA"];
  // The page secret (see page.js): from the fragment once, then sessionStorage.
  const pageSecret = (function () {
    const m = /^#page=([A-Za-z0-9_-]+)$/.exec(location.hash);
    if (m) {
      sessionStorage.setItem("heidi-tray-settings", m[1]);
      history.replaceState(null, "", location.pathname);
    }
    return sessionStorage.getItem("heidi-tray-settings") || "";
  })();
  async function api(path, body) {
    const r = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json", "X-Heidi-Tray-Page": pageSecret }, credentials: "same-origin", body: JSON.stringify(body || {}) });
    const data = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error((data.error && data.error.message) || "HTTP " + r.status);
    return data;
  }
  function notice(text, bad) {
    const n = $("notice");
    n.hidden = !text; n.textContent = text || ""; n.className = "notice" + (bad ? " error" : "");
  }
  function fill(sel) { sel.replaceChildren(...REGIONS.map((r) => new Option(r, r))); }
  [$("key-region"), $("pref-region"), $("test-region")].forEach(fill);

  function render(st) {
    $("sandbox-badge").hidden = !st.sandbox;
    $("config-file").textContent = st.config_file;
    const keyless = st.token_source && st.token_source !== "keychain";
    $("token-source").textContent = "Token source: " + (st.token_source || "keychain") + (keyless
      ? (st.token_source === "emr" ? " — the EMR passes each clinician's token; no API key is kept on this computer." : " — the clinic token service issues tokens after Windows sign-in; no API key is kept on this computer.")
      : " — the API keys below, in this computer's keychain.");
    ["keys", "key-form", "test-form"].forEach((id) => { $(id).hidden = keyless; });
    const body = $("keys").tBodies[0];
    body.replaceChildren();
    REGIONS.forEach((r) => {
      const k = (st.keys || []).find((x) => x.region === r);
      const tr = document.createElement("tr");
      tr.dataset.region = r;
      const del = document.createElement("button");
      del.type = "button"; del.textContent = "Remove"; del.hidden = !k;
      del.onclick = () => act(api("/api/settings/key-delete", { region: r }), "Removed the " + r + " key.");
      [r, k ? k.masked : "—"].forEach((t) => { const td = document.createElement("td"); td.textContent = t; tr.append(td); });
      const td = document.createElement("td"); td.append(del); tr.append(td);
      body.append(tr);
    });
    $("pref-region").value = st.region;
    $("pref-env").value = st.environment;
    $("test-region").value = st.region;
    $("key-region").value = st.region;
    $("secret-state").textContent = st.secret_set ? "A secret is set." : "No secret is set.";
    $("secret-delete").hidden = !st.secret_set;
    $("locked").textContent = (st.locked && st.locked.length ? "Set by your administrator or the environment: " + st.locked.join(", ") + ". " : "") +
      (st.restart_needed ? "Quit and start heidi-tray again to apply region and environment changes." : "");
  }
  async function act(promise, ok) {
    try { render(await promise); notice(ok); } catch (e) { notice(e.message, true); }
  }
  $("key-form").onsubmit = (e) => {
    e.preventDefault();
    const key = $("key-value").value.trim();
    $("key-value").value = "";
    act(api("/api/settings/key", { region: $("key-region").value, key: key }), "Saved the " + $("key-region").value + " key in the keychain.");
  };
  $("prefs-form").onsubmit = (e) => {
    e.preventDefault();
    act(api("/api/settings/prefs", { region: $("pref-region").value, environment: $("pref-env").value }), "Saved.");
  };
  $("secret-form").onsubmit = (e) => {
    e.preventDefault();
    const v = $("secret-value").value;
    $("secret-value").value = "";
    act(api("/api/settings/secret", { secret: v }), "Saved the launch secret in the keychain.");
  };
  $("secret-delete").onclick = () => act(api("/api/settings/secret-delete"), "Removed the launch secret.");
  $("test-form").onsubmit = async (e) => {
    e.preventDefault();
    const out = $("test-result");
    out.textContent = "Testing…"; out.className = "";
    try {
      const r = await api("/api/settings/test", { region: $("test-region").value });
      out.textContent = (r.ok ? "✓ " : "✗ ") + r.message;
      out.className = r.ok ? "ok" : "bad";
    } catch (err) { out.textContent = "✗ " + err.message; out.className = "bad"; }
  };
  api("/api/settings/state").then(render).catch((e) => notice(e.message + " — open Set up… from the tray menu again.", true));
})();
