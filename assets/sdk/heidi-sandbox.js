// SANDBOX stand-in for Heidi's widget SDK (heidi.js). It implements the
// documented surface — new Heidi(options), Heidi.open/close/setPatient/
// setToken/setContext and the callbacks — and renders a plainly labelled panel
// with buttons to record, expire the token and push a note. It talks to no
// one: heidi-tray's tests and 'heidi-tray sandbox' use it instead of Heidi.
// It records what it received in window.__heidiSandbox for tests; the token
// itself is kept only as a SHA-256 fingerprint there.
"use strict";
(function () {
  const cb = {};
  const state = {
    constructed: 0, opened: 0, closed: 0, region: null, productName: null,
    tokenSha: null, setTokenCalls: 0, patient: null, setPatientCalls: 0,
    sessionId: null, context: null, recording: "NOT_STARTED", pushes: 0, log: [], sessions: [],
    sessionStartDelayMs: 0, // tests raise it to make onSessionStarted late
  };
  window.__heidiSandbox = state;
  let opts = null;
  let root = null;
  let seq = 0;

  async function sha(text) {
    const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
    return Array.from(new Uint8Array(d)).map((b) => b.toString(16).padStart(2, "0")).join("");
  }
  function note(what) { state.log.push(what); render(); }
  function fire(name, arg) { if (cb[name]) cb[name](arg); }

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => e.setAttribute(k, v));
    if (text) e.textContent = text;
    return e;
  }

  function render() {
    if (!root) return;
    root.replaceChildren();
    const box = el("div", { class: "hs-panel", "data-recording": state.recording, "data-token-sha": state.tokenSha || "",
      "data-patient-id": state.patient ? state.patient.id : "", "data-session-id": state.sessionId || "",
      "data-set-token-calls": String(state.setTokenCalls), "data-set-patient-calls": String(state.setPatientCalls) });
    box.style.cssText = "height:100%;display:flex;flex-direction:column;gap:.8rem;padding:1.2rem;background:#fff;border:3px dashed #f2b705;font-family:system-ui,sans-serif";
    const h = el("div", {}, "SANDBOX — stand-in for Heidi's widget. Nothing here reaches Heidi.");
    h.style.cssText = "font-weight:700;color:#7a5a00;background:#fff4d6;padding:.5rem .7rem;border-radius:.3rem";
    box.append(h);
    const p = state.patient;
    box.append(el("div", { id: "hs-patient" }, p ? "Patient: " + p.name + (p.dob ? " · DOB " + p.dob : "") + (p.gender ? " · " + p.gender : "") + " · id " + p.id : "No patient"));
    box.append(el("div", { id: "hs-session" }, "Session: " + (state.sessionId || "none yet") + " · region " + state.region));
    box.append(el("div", { id: "hs-token" }, "Token: " + (state.tokenSha ? "received (fingerprint " + state.tokenSha.slice(0, 8) + "…), set " + state.setTokenCalls + "×" : "none")));
    box.append(el("div", { id: "hs-recording" }, "Recording: " + state.recording));
    const row = el("div");
    row.style.cssText = "display:flex;gap:.5rem;flex-wrap:wrap";
    const btn = (id, label, fn) => { const b = el("button", { id: id, type: "button" }, label); b.onclick = fn; b.style.cssText = "padding:.5rem .9rem;font-size:.95rem"; row.append(b); };
    btn("hs-start", "Start recording", () => Heidi.__startRecording());
    btn("hs-stop", "Stop recording", () => Heidi.__stopRecording());
    btn("hs-expire", "Expire token", () => Heidi.__expireToken());
    btn("hs-push", "Push note", () => Heidi.__pushNote());
    btn("hs-push-doc", "Push document", () => Heidi.__pushDocument());
    box.append(row);
    const log = el("ol", { id: "hs-log" });
    log.style.cssText = "font-size:.8rem;color:#555;overflow:auto;flex:1;margin:0";
    state.log.slice(-8).forEach((l) => log.append(el("li", {}, l)));
    box.append(log);
    root.append(box);
  }

  class Heidi {
    constructor(options) {
      if (!options || !options.token) throw new Error("Heidi: token is required");
      opts = options;
      state.constructed++;
      state.region = options.region || "AU";
      state.productName = options.productName || null;
      const t = options.target;
      root = typeof t === "string" ? document.querySelector(t) : (t || document.body);
      sha(options.token).then((s) => { state.tokenSha = s; note("initialised"); if (opts.onInit) opts.onInit(); });
    }
    // open follows the documented params: sessionId reopens that session;
    // startNewSession (or no session yet) starts one and reports it through
    // onSessionStarted a little later, as the real widget does; the patient
    // is whatever the params name (none: no patient).
    static open(params) {
      params = params || {};
      state.opened++;
      state.patient = params.patient || null;
      state.context = params.context || null;
      const fresh = !params.sessionId && (params.startNewSession || !state.sessionId);
      if (params.sessionId) state.sessionId = params.sessionId;
      if (fresh) state.sessionId = null;
      note("open" + (params.sessionId ? " session " + params.sessionId : fresh ? " new session" : ""));
      const delay = state.sessionStartDelayMs || 0;
      setTimeout(() => {
        if (opts.onReady) opts.onReady();
        if (fresh) {
          const id = "sbx-" + Date.now().toString(36) + "-" + (++seq);
          setTimeout(() => { state.sessionId = id; state.sessions.push({ id: id, patientId: state.patient ? state.patient.id : null }); fire("sessionStarted", id); render(); }, delay);
        }
      }, 0);
    }
    static close(o) { state.closed++; note("close" + (o && o.force ? " (force)" : "")); if (root) root.replaceChildren(); root = null; }
    static setPatient(p) { state.patient = p; state.setPatientCalls++; state.lastSetPatientAt = Date.now(); note("setPatient " + (p && p.id)); }
    static setToken(t) { sha(t).then((s) => { state.tokenSha = s; state.setTokenCalls++; note("setToken"); }); }
    static setContext(c) { state.context = c && c.context; note("setContext"); }
    static onPushData(f) { cb.pushData = f; }
    static onPushDocument(f) { cb.pushDocument = f; }
    static onSessionStarted(f) { cb.sessionStarted = f; }
    static onTokenExpired(f) { cb.tokenExpired = f; }
    static onRecordingStarted(f) { cb.recordingStarted = f; }
    static onRecordingPaused(f) { cb.recordingPaused = f; }
    static onRecordingStopped(f) { cb.recordingStopped = f; }
    static onRecordingStatusChange(f) { cb.recordingStatus = f; }
    static onOpen(f) { cb.open = f; }
    static onClose(f) { cb.close = f; }
    static onResize(f) { cb.resize = f; }

    // Sandbox controls (the panel's buttons; tests call them too).
    static __startRecording() { state.recording = "RECORDING"; note("recording started"); fire("recordingStarted"); fire("recordingStatus", "RECORDING"); }
    static __stopRecording() { state.recording = "STOPPED"; note("recording stopped"); fire("recordingStopped"); fire("recordingStatus", "STOPPED"); }
    static __expireToken() { note("token expired"); fire("tokenExpired"); }
    static __pushNote() {
      state.pushes++;
      const p = state.patient;
      fire("pushData", {
        sessionId: state.sessionId,
        patientInfo: p,
        notesData: "SANDBOX NOTE " + state.pushes + " for " + (p ? p.name : "no patient") + "\nS: cough for 3 days\nO: afebrile\nA: viral URTI\nP: rest, fluids",
        noteData: undefined,
      });
      note("pushed note " + state.pushes);
    }
    static __pushDocument() {
      state.pushes++;
      fire("pushDocument", { sessionId: state.sessionId, patientInfo: state.patient, title: "Referral letter", content: "SANDBOX DOCUMENT " + state.pushes });
      note("pushed document " + state.pushes);
    }
  }
  window.Heidi = Heidi;
})();
