// heidi-tray widget page: hosts Heidi's widget for a desktop EMR.
// The JWT reaches this page only through a same-origin POST; it never appears
// in a URL, in the DOM or in storage.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  let session = null;      // answer of /api/session (token dropped after use)
  let recording = false;
  let heldSwitch = null;   // a switch held while recording
  let events = null;

  async function api(path, body) {
    const r = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      credentials: "same-origin",
      cache: "no-store",
      body: JSON.stringify(body || {}),
    });
    let data = null;
    try { data = await r.json(); } catch (e) { /* no body */ }
    if (!r.ok) {
      const err = new Error((data && data.error && data.error.message) || ("HTTP " + r.status));
      err.status = r.status;
      throw err;
    }
    return data;
  }

  function showState(title, text) {
    $("state").hidden = false;
    $("state-title").textContent = title;
    $("state-text").textContent = text || "";
  }
  function hideState() { $("state").hidden = true; }
  function notice(text, isError) {
    const n = $("notice");
    if (!text) { n.hidden = true; return; }
    n.hidden = false;
    n.textContent = text;
    n.className = "notice" + (isError ? " error" : "");
  }

  function banner(s) {
    $("banner").hidden = false;
    $("sandbox-badge").hidden = !s.sandbox;
    const p = s.patient;
    $("patient-name").textContent = p ? p.name : "No patient selected in the EMR";
    $("patient-dob").textContent = p && p.dob ? "DOB " + p.dob : "";
    $("clinician").textContent = s.clinician.email;
    $("region").textContent = s.region + (s.sandbox ? " (sandbox)" : "");
    document.title = (s.sandbox ? "SANDBOX · " : "") + "Heidi" + (p ? " · " + p.name : "");
  }

  function loadScript(src) {
    return new Promise((resolve, reject) => {
      const el = document.createElement("script");
      el.src = src;
      el.async = true;
      const timer = setTimeout(() => reject(new Error("timed out")), 20000);
      el.onload = () => { clearTimeout(timer); resolve(); };
      el.onerror = () => { clearTimeout(timer); reject(new Error("failed to load")); };
      document.head.appendChild(el);
    });
  }

  async function start() {
    try {
      session = await api("/api/session");
    } catch (e) {
      if (e.status === 401) {
        showState("Signed out", "This Heidi window is closed. Open Heidi again from your EMR.");
      } else {
        showState("Heidi could not open", e.message);
      }
      return;
    }
    banner(session);
    try {
      await loadScript(session.widget_script);
    } catch (e) {
      showState("Heidi's widget could not be loaded",
        "The page could not load " + session.widget_script + " (" + e.message + "). " +
        "This computer may be offline, or a proxy or firewall may block it. Check the connection and reload this window.");
      return;
    }
    if (typeof window.Heidi !== "function") {
      showState("Heidi's widget could not be loaded", "The widget script loaded but did not start. Reload this window.");
      return;
    }
    const token = session.token;
    delete session.token;
    new window.Heidi({
      token: token,
      region: session.region,
      productName: session.product_name,
      target: "#heidi",
      display: { fitToWindow: true },
      onInit: () => {
        hideState();
        const params = {};
        if (session.patient) params.patient = session.patient;
        if (session.heidi_session_id) params.sessionId = session.heidi_session_id;
        if (session.context) params.context = session.context;
        window.Heidi.open(params);
      },
      onReady: registerCallbacks,
    });
    listen();
  }

  let registered = false;
  function registerCallbacks() {
    if (registered) return;
    registered = true;
    const H = window.Heidi;
    H.onTokenExpired(async () => {
      try {
        const t = await api("/api/token");
        H.setToken(t.token);
      } catch (e) {
        notice("Heidi's sign-in could not be renewed: " + e.message, true);
      }
    });
    H.onPushData((data) => push("data", data));
    H.onPushDocument((doc) => push("document", doc));
    H.onSessionStarted((id) => {
      api("/api/session-started", { session_id: String(id) }).catch(() => {});
    });
    const rec = (status) => recordingChanged(status);
    if (H.onRecordingStarted) H.onRecordingStarted(() => rec("RECORDING"));
    if (H.onRecordingPaused) H.onRecordingPaused(() => rec("PAUSED"));
    if (H.onRecordingStopped) H.onRecordingStopped(() => rec("STOPPED"));
    if (H.onRecordingStatusChange) H.onRecordingStatusChange((s) => rec(String(s)));
  }

  async function push(kind, payload) {
    try {
      const r = await api("/api/push", { kind: kind, payload: payload });
      notice(r.message || "Saved for the EMR.");
      setTimeout(() => notice(""), 6000);
    } catch (e) {
      notice("The note was NOT saved for the EMR: " + e.message + ". Push it again.", true);
      throw e;
    }
  }

  async function recordingChanged(status) {
    const now = status === "RECORDING" || status === "PAUSED";
    if (now === recording) return;
    recording = now;
    try { await api("/api/recording", { status: status }); } catch (e) { /* best effort */ }
    if (!recording && heldSwitch) {
      const ev = heldSwitch;
      heldSwitch = null;
      apply(ev);
    }
  }

  function apply(ev) {
    const H = window.Heidi;
    if (ev.type === "patient") {
      if (recording) { heldSwitch = ev; held(ev); return; }
      notice("");
      session.patient = ev.patient;
      banner(session);
      if (ev.heidi_session_id) {
        H.open({ patient: ev.patient, sessionId: ev.heidi_session_id });
      } else if (ev.patient) {
        H.setPatient(ev.patient);
      }
      if (ev.context) H.setContext({ context: ev.context });
    } else if (ev.type === "replace") {
      if (recording) { heldSwitch = ev; held(ev); return; }
      try { H.close({ force: true, keepSession: true }); } catch (e) { /* widget gone */ }
      location.replace(ev.url);
    } else if (ev.type === "pending") {
      held(ev);
    } else if (ev.type === "logout") {
      signOut();
    }
  }

  function held(ev) {
    const who = ev.patient ? ev.patient.name : (ev.clinician || "another clinician");
    notice("The EMR switched to " + who + "; stop the recording to switch.", true);
  }

  function signOut() {
    try { if (window.Heidi && window.Heidi.close) window.Heidi.close({ force: true }); } catch (e) { /* already closed */ }
    if (events) events.close();
    $("heidi").replaceChildren();
    $("banner").hidden = true;
    notice("");
    showState("Signed out", "You were signed out of Heidi on this computer. Open Heidi again from your EMR.");
  }

  function listen() {
    events = new EventSource("/api/events");
    events.onmessage = (m) => {
      let ev;
      try { ev = JSON.parse(m.data); } catch (e) { return; }
      apply(ev);
    };
  }

  window.addEventListener("beforeunload", (e) => {
    if (recording) { e.preventDefault(); e.returnValue = ""; }
  });
  start();
})();
