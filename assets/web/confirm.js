// heidi-tray confirmation page: the answer is a same-origin POST.
"use strict";
(function () {
  const code = new URLSearchParams(location.search).get("code") || "";
  history.replaceState(null, "", "/confirm"); // the code leaves the address bar
  const result = document.getElementById("result");
  async function answer(yes) {
    document.getElementById("continue").disabled = true;
    document.getElementById("cancel").disabled = true;
    try {
      const r = await fetch("/api/confirm", {
        method: "POST", headers: { "Content-Type": "application/json" }, credentials: "same-origin",
        body: JSON.stringify({ code: code, continue: yes }),
      });
      const data = await r.json();
      if (!r.ok) throw new Error(data.error ? data.error.message : "HTTP " + r.status);
      if (data.redirect) { location.replace(data.redirect); return; }
      result.textContent = data.message;
    } catch (e) {
      result.textContent = "Heidi could not be opened: " + e.message;
    }
  }
  document.getElementById("continue").onclick = () => answer(true);
  document.getElementById("cancel").onclick = () => answer(false);
})();
