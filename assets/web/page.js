// heidi-tray widget page: hosts Heidi's widget for a desktop EMR.
// The JWT reaches this page only through a same-origin POST; it never appears
// in a URL, in the DOM or in storage.
//
// Attribution by construction (docs/clinical-safety.md): the page is always
// in one view (a launch id). Every call that records something names the
// view it was made in; a switch never happens under a recording or under a
// recording whose note has not been pushed or discarded.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  let session = null;       // answer of /api/session (token dropped after use)
  let view = null;          // the view shown now: {id, patient, encounter_id, context, heidi_session_id}
  let recording = false;
  let awaitingNote = false; // a recording stopped; its note is not pushed or discarded yet
  let pending = null;       // a switch the tray holds for us
  let following = true;     // false once the window no longer follows the EMR
  let events = null;
  let greeted = false;      // this stream said hello with our tray's run id
  let lastHeard = Date.now();
  // Heidi.open calls whose onSessionStarted is still due, oldest first. A
  // report is attributed only when exactly one open is waiting for it;
  // otherwise it cannot be told apart and nothing is stored.
  let opens = [];
  let queue = Promise.resolve(); // views are applied one at a time
  let showGen = 0;               // a pending switch cancels the shows queued before it

  // The page secret: handed over in the address's fragment once, then kept
  // in sessionStorage (scoped to this origin's port, unlike the cookie) and
  // sent on every call, so a replayed cookie alone opens nothing.
  const pageSecret = (function () {
    const m = /^#page=([A-Za-z0-9_-]+)$/.exec(location.hash);
    if (m) {
      sessionStorage.setItem("heidi-tray-page", m[1]);
      history.replaceState(null, "", location.pathname);
    }
    return sessionStorage.getItem("heidi-tray-page") || "";
  })();

  window.__heidiTray = { get view() { return view; }, get following() { return following; }, get pending() { return pending; },
    get awaitingNote() { return awaitingNote; }, get recording() { return recording; } };

  async function api(path, body) {
    const r = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Heidi-Tray-Page": pageSecret },
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

  function banner() {
    $("banner").hidden = false;
    $("sandbox-badge").hidden = !session.sandbox;
    const p = following && view ? view.patient : null;
    $("patient-name").textContent = !following ? "Not following the EMR" : (p ? p.name : "No patient selected in the EMR");
    $("patient-dob").textContent = p && p.dob ? "DOB " + p.dob : "";
    $("clinician").textContent = session.clinician.email;
    $("region").textContent = session.region + (session.sandbox ? " (sandbox)" : "");
    $("banner").classList.toggle("stale", !following);
    document.title = (session.sandbox ? "SANDBOX · " : "") + "Heidi" + (p ? " · " + p.name : "");
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
      } else if (e.status === 409) {
        showState("Heidi is already open", "This Heidi window is already open in another tab or window. Use that one, and close this tab.");
      } else {
        showState("Heidi could not open", e.message);
      }
      return;
    }
    view = session.view;
    awaitingNote = !!session.awaiting_note;
    banner();
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
        openView(view, true);
        if (session.pending) onPending(session.pending);
      },
      onReady: registerCallbacks,
    });
    listen();
    setInterval(watchdog, 5000);
  }

  // openView puts the widget on a view: its stored Heidi session, else a new
  // session for its patient (or with no patient at all), so every view has
  // its own session and a session is never shared between patients.
  function openView(v, first) {
    const H = window.Heidi;
    const params = {};
    if (v.patient) params.patient = v.patient;
    if (v.context) params.context = v.context;
    if (v.heidi_session_id) {
      params.sessionId = v.heidi_session_id;
    } else {
      if (!first) params.startNewSession = true;
      opens.push({ viewId: v.id, at: Date.now() });
    }
    H.open(params);
  }

  // opening is the open whose session report is due now, if any.
  function opening() {
    opens = opens.filter((o) => Date.now() - o.at < 30000); // a report that never came
    return opens.length ? opens[0] : null;
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
      // The session belongs to the view it was opened for, not to whatever
      // the window shows when the callback arrives.
      opening();
      const o = opens.shift();
      if (!o || opens.length > 0) { opens = []; return; } // cannot tell which view: store nothing
      if (view && view.id === o.viewId) view.heidi_session_id = String(id);
      api("/api/session-started", { view_id: o.viewId, session_id: String(id) }).catch(() => {});
    });
    const rec = (status) => recordingChanged(status);
    if (H.onRecordingStarted) H.onRecordingStarted(() => rec("RECORDING"));
    if (H.onRecordingPaused) H.onRecordingPaused(() => rec("PAUSED"));
    if (H.onRecordingStopped) H.onRecordingStopped(() => rec("STOPPED"));
    if (H.onRecordingStatusChange) H.onRecordingStatusChange((s) => rec(String(s)));
  }

  async function push(kind, payload) {
    const viewId = view && view.id; // the view the note was pushed from
    if (!following) {
      notice("This window no longer follows the EMR: the note was NOT saved. Open Heidi again from your EMR, then push the note again.", true);
      throw new Error("not following");
    }
    try {
      const r = await api("/api/push", { view_id: viewId, kind: kind, payload: payload });
      awaitingNote = false;
      if (!pending) {
        notice(r.message || "Saved for the EMR.");
        setTimeout(() => { if (!pending) notice(""); }, 6000);
      }
    } catch (e) {
      notice("The note was NOT saved for the EMR: " + e.message + ". Push it again.", true);
      throw e;
    }
  }

  async function recordingChanged(status) {
    const now = status === "RECORDING" || status === "PAUSED";
    if (now === recording) return;
    recording = now;
    if (!now) awaitingNote = true;
    try { await api("/api/recording", { view_id: view && view.id, status: status }); } catch (e) { /* best effort */ }
    if (pending) onPending(pending);
  }

  function apply(ev) {
    if (ev.type === "hello" || ev.type === "heartbeat") {
      if (session && ev.run_id !== session.run_id) stopFollowing("heidi-tray restarted.");
      else if (ev.type === "hello") greeted = true;
      return;
    }
    // Each (re)connected stream must first prove it is the same tray run:
    // after a crash, whatever took the port could otherwise send a patient.
    if (!following || !greeted) return;
    if (ev.type === "show") {
      if (view && ev.view && view.id === ev.view.id) return; // told again after a reconnect
      const gen = showGen;
      queue = queue.then(() => show(ev.view, gen));
    } else if (ev.type === "pending") {
      showGen++; // the tray holds the switch instead
      onPending(ev);
    } else if (ev.type === "pending_cleared") {
      if (pending && pending.pending_id === ev.pending_id) { pending = null; notice(""); }
    } else if (ev.type === "replace") {
      // Only our own launch path: a port squatter cannot send us elsewhere.
      if (typeof ev.url !== "string" || !/^\/launch\?code=[A-Za-z0-9_-]+$/.test(ev.url)) return;
      try { window.Heidi.close({ force: true, keepSession: true }); } catch (e) { /* widget gone */ }
      location.replace(ev.url);
    } else if (ev.type === "superseded") {
      stopFollowing("Another Heidi window now follows the EMR.");
    } else if (ev.type === "logout") {
      signOut();
    }
  }

  // show switches the widget to a view, after the previous open's session
  // has been reported (or a bound passed). Never under a recording: the tray,
  // told of it, holds the switch instead. (The tray sends a switch only when
  // it owes no note, so one that crosses a push's answer still applies.)
  async function show(v, gen) {
    const until = Date.now() + 5000;
    while (opening() && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    if (gen !== showGen || !following || recording) return;
    pending = null;
    awaitingNote = false;
    notice("");
    view = v;
    banner();
    openView(v, false);
    api("/api/shown", { view_id: v.id }).catch(() => {});
  }

  function onPending(ev) {
    pending = ev;
    const who = ev.clinician ? ev.clinician : (ev.patient ? ev.patient.name : "no patient");
    const here = view && view.patient ? view.patient.name : "this patient";
    const n = $("notice");
    if (recording) {
      notice("The EMR switched to " + who + ". Stop the recording, then push its note for " + here + " (or discard it) to switch.", true);
      return;
    }
    if (ev.reason === "ask") {
      // An unsigned link (which any web page can open) asks to change the
      // patient: the clinician decides.
      n.hidden = false;
      n.className = "notice error";
      n.replaceChildren();
      const q = document.createElement("span");
      q.textContent = "The EMR asks to switch to " + who + ". ";
      const sw = document.createElement("button");
      sw.id = "ask-switch";
      sw.type = "button";
      sw.textContent = "Switch to " + who;
      const stay = document.createElement("button");
      stay.id = "ask-stay";
      stay.type = "button";
      stay.textContent = "Stay on " + here;
      const answer = async (path) => {
        sw.disabled = stay.disabled = true;
        try { await api(path, { view_id: view && view.id, pending_id: ev.pending_id }); if (path === "/api/stay") { pending = null; notice(""); } }
        catch (e) { sw.disabled = stay.disabled = false; notice("Could not answer: " + e.message, true); }
      };
      sw.onclick = () => answer("/api/switch");
      stay.onclick = () => answer("/api/stay");
      n.append(q, sw, stay);
      return;
    }
    n.hidden = false;
    n.className = "notice error";
    n.replaceChildren();
    const t = document.createElement("span");
    t.textContent = "The EMR switched to " + who + ". Push the note for " + here + " from Heidi, or discard it and switch. ";
    const b = document.createElement("button");
    b.id = "discard-and-switch";
    b.type = "button";
    b.textContent = "Discard and switch to " + who;
    b.onclick = async () => {
      b.disabled = true;
      try { await api("/api/discard", { view_id: view && view.id }); } catch (e) { b.disabled = false; notice("Could not switch: " + e.message, true); }
    };
    n.append(t, b);
  }

  // stopFollowing: the window keeps Heidi (a recording is not cut off) but
  // shows no patient, so nobody takes it for the EMR's current patient.
  function stopFollowing(why) {
    if (!following) return;
    following = false;
    pending = null;
    if (events) events.close();
    banner();
    notice("This window no longer follows the EMR (" + why + ") Open Heidi again from your EMR to continue.", true);
  }

  function watchdog() {
    if (following && Date.now() - lastHeard > 3 * (session.heartbeat_ms || 15000) + 2000) {
      stopFollowing("heidi-tray does not answer.");
    }
  }

  function signOut() {
    try { if (window.Heidi && window.Heidi.close) window.Heidi.close({ force: true }); } catch (e) { /* already closed */ }
    following = false;
    if (events) events.close();
    $("heidi").replaceChildren();
    $("banner").hidden = true;
    notice("");
    showState("Signed out", "You were signed out of Heidi on this computer. Open Heidi again from your EMR.");
  }

  function listen() {
    events = new EventSource("/api/events?page=" + encodeURIComponent(pageSecret));
    events.onopen = () => { greeted = false; };
    events.onmessage = (m) => {
      lastHeard = Date.now();
      let ev;
      try { ev = JSON.parse(m.data); } catch (e) { return; }
      apply(ev);
    };
    events.onerror = () => {
      // The browser retries on its own; a refused retry (401: the tray
      // restarted and does not know this window) closes the stream.
      if (events.readyState === EventSource.CLOSED) stopFollowing("heidi-tray stopped or restarted.");
    };
  }

  window.addEventListener("beforeunload", (e) => {
    if (recording) { e.preventDefault(); e.returnValue = ""; }
  });
  start();
})();
