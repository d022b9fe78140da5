// Meeting mode: keyboard shortcuts, clock per case, decision autosave with offline copy,
// conflict panel. Without JavaScript the decision form is a plain POST form.
(function () {
  "use strict";
  var root = document.getElementById("meeting");
  var form = document.getElementById("decision-form");
  if (!root) { return; }
  var stateEl = document.getElementById("save-state");
  var versionEl = document.getElementById("f-version");
  var secondsEl = document.getElementById("f-seconds_spent");
  var itemId = root.dataset.item;
  var saveUrl = root.dataset.saveUrl;
  var seconds = parseInt(root.dataset.seconds || "0", 10) || 0;
  var timer = null, saving = false, pending = false, lastStored = null, inConflict = false;

  function isTyping(el) {
    if (!el) { return false; }
    var tag = el.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
  }
  function two(n) { return (n < 10 ? "0" : "") + n; }
  function setState(text, cls) {
    if (!stateEl) { return; }
    stateEl.textContent = text;
    stateEl.className = "save-state" + (cls ? " " + cls : "");
  }
  function storageKey() { return "rcp-decision-" + itemId + "-v" + (versionEl ? versionEl.value : "0"); }
  function collect() {
    var data = {};
    new FormData(form).forEach(function (value, key) { data[key] = value; });
    return data;
  }
  function fill(values) {
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.name === "csrf_token" || el.name === "version" || el.name === "seconds_spent") { return; }
      var v = values[el.name];
      if (el.type === "checkbox") { el.checked = v === true || v === "1" || v === "on" || v === "true"; }
      else if (el.type === "radio") { el.checked = v === el.value; }
      else { el.value = v === undefined || v === null ? "" : v; }
    });
  }

  // --- clock ---------------------------------------------------------------------------------
  var clock = document.getElementById("clock");
  function showClock() {
    if (clock) { clock.textContent = Math.floor(seconds / 60) + ":" + two(seconds % 60); }
    if (secondsEl) { secondsEl.value = String(seconds); }
  }
  if (itemId) {
    showClock();
    setInterval(function () { if (!document.hidden) { seconds += 1; showClock(); } }, 1000);
  }

  // --- autosave ------------------------------------------------------------------------------
  function keepLocal() {
    try { localStorage.setItem(storageKey(), JSON.stringify(collect())); } catch (e) { /* full */ }
  }
  function dropLocal(version) {
    try { localStorage.removeItem("rcp-decision-" + itemId + "-v" + version); } catch (e) { /* ignore */ }
  }
  // Every kept copy of this item, whatever its version: once the decision is validated the
  // signed fiche is the truth, and an old draft must never come back over it.
  function dropAllLocal() {
    try {
      var prefix = "rcp-decision-" + itemId + "-v";
      for (var i = localStorage.length - 1; i >= 0; i -= 1) {
        var key = localStorage.key(i);
        if (key && key.indexOf(prefix) === 0) { localStorage.removeItem(key); }
      }
    } catch (e) { /* ignore */ }
  }
  if (itemId && root.dataset.validated === "true") { dropAllLocal(); }
  function save() {
    if (!form || !saveUrl || inConflict) { return; }
    if (saving) { pending = true; return; }
    saving = true;
    var data = collect();
    var sentVersion = data.version;
    var token = form.querySelector("input[name=csrf_token]").value;
    fetch(saveUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": token },
      body: JSON.stringify(data)
    }).then(function (response) {
      return response.json().then(function (body) { return { status: response.status, body: body }; });
    }).then(function (r) {
      saving = false;
      if (r.status === 200) {
        dropLocal(sentVersion);
        versionEl.value = String(r.body.version);
        setState("Enregistré à " + r.body.saved_at, "");
        if (pending) { pending = false; save(); }
      } else if (r.body.state === "validated") {
        // Validated meanwhile (another screen signed the fiche): nothing typed here can be
        // saved; show the read-only decision.
        dropAllLocal();
        pending = false;
        setState(r.body.message || "Décision validée et signée.", "offline");
        window.location.reload();
      } else if (r.status === 409 && r.body.stored) {
        if (String(sentVersion) !== versionEl.value) {
          // The user already chose in the conflict panel: send again with the chosen version.
          if (pending) { pending = false; save(); }
        } else {
          pending = false;
          showConflict(r.body);
        }
      } else {
        setState(r.body.message || "Erreur d'enregistrement.", "offline");
        var field = r.body.field && document.getElementById("f-" + r.body.field);
        if (field) { field.classList.add("is-invalid"); }
      }
    }).catch(function () {
      saving = false;
      keepLocal();
      setState("Hors ligne — nouvel essai…", "offline");
      setTimeout(save, 5000);
    });
  }
  function changed(event) {
    if (event && event.target && event.target.classList) { event.target.classList.remove("is-invalid"); }
    keepLocal();
    if (inConflict) { return; }
    setState("Modifications non enregistrées", "dirty");
    clearTimeout(timer);
    timer = setTimeout(save, 1000);
  }
  if (form && saveUrl) {
    form.addEventListener("input", changed);
    form.addEventListener("change", changed);
    form.addEventListener("focusout", function () {
      if (stateEl && stateEl.classList.contains("dirty")) { clearTimeout(timer); save(); }
    });
    form.addEventListener("submit", function (event) { event.preventDefault(); clearTimeout(timer); save(); });
    window.addEventListener("online", function () { save(); });
    window.addEventListener("beforeunload", function () {
      if (stateEl && stateEl.classList.contains("dirty")) { keepLocal(); }
    });
    // Restore what was typed but not saved (same item, same version).
    try {
      var kept = localStorage.getItem(storageKey());
      if (kept) {
        fill(JSON.parse(kept));
        var notice = document.getElementById("restore-notice");
        if (notice) {
          notice.textContent = "Des modifications non enregistrées ont été restaurées depuis ce navigateur.";
          notice.classList.remove("d-none");
        }
        changed();
      }
    } catch (e) { /* ignore */ }
  }

  // --- conflict ------------------------------------------------------------------------------
  var panel = document.getElementById("conflict");
  var SUMMARY = [["outcome", "Issue"], ["proposal_code", "Proposition"],
    ["proposal_details", "Détails"], ["exams_requested", "Examens demandés"],
    ["comments", "Commentaires"]];
  function optionLabel(name, value) {
    var select = form.querySelector("select[name=" + name + "]");
    var option = select && Array.prototype.find.call(select.options, function (o) { return o.value === value; });
    var radio = document.getElementById("f-" + name + "-" + value);
    var label = radio && form.querySelector("label[for=" + radio.id + "]");
    return option ? option.text : (label ? label.textContent : value);
  }
  function summary(values) {
    return SUMMARY.filter(function (pair) { return values[pair[0]]; }).map(function (pair) {
      return pair[1] + " : " + optionLabel(pair[0], String(values[pair[0]]));
    }).join("\n") || "(vide)";
  }
  function showConflict(body) {
    inConflict = true;
    clearTimeout(timer);
    lastStored = body.stored;
    document.getElementById("conflict-mine").textContent = summary(body.mine);
    document.getElementById("conflict-theirs").textContent = summary(body.stored);
    document.getElementById("conflict-theirs-title").textContent =
      "Version enregistrée par " + (body.stored.updated_by || "un autre utilisateur") + " à " + (body.stored.updated_at || "");
    panel.classList.remove("d-none");
    panel.scrollIntoView({ block: "nearest" });
    setState("Conflit — choisissez une version", "offline");
  }
  if (panel) {
    document.getElementById("keep-mine").addEventListener("click", function (event) {
      event.preventDefault();
      if (lastStored) { versionEl.value = String(lastStored.version); }
      inConflict = false;
      panel.classList.add("d-none");
      save();
    });
    document.getElementById("take-theirs").addEventListener("click", function (event) {
      if (lastStored) {
        event.preventDefault();
        dropLocal(versionEl.value);
        fill(lastStored);
        versionEl.value = String(lastStored.version);
        setState("Enregistré à " + (lastStored.updated_at || ""), "");
        inConflict = false;
        panel.classList.add("d-none");
      }
    });
  }

  // --- after a decision: the next case ---------------------------------------------------------
  // The "Dossier suivant" link (or the last-case message) takes the focus: Enter follows it.
  var nextCase = document.getElementById("next-case");
  if (nextCase && !(panel && !panel.classList.contains("d-none"))) { nextCase.focus(); }

  // --- keyboard ------------------------------------------------------------------------------
  function pick(outcome) {
    if (!saveUrl) { return; }  // read-only decision (validated, or session not capturing)
    var radio = document.getElementById("f-outcome-" + outcome);
    if (radio) { radio.checked = true; changed(); }
    if (outcome === "postponed") {
      var reason = document.getElementById("f-postpone_reason");
      if (reason) { reason.focus(); }
    }
  }
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && form) {
      event.preventDefault(); clearTimeout(timer); save(); return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) { return; }
    var go = null;
    if (event.key === "n") { go = root.dataset.next; }
    else if (event.key === "p") { go = root.dataset.prev; }
    else if (event.key === "d") { pick("discussed"); }
    else if (event.key === "r") { pick("registered"); }
    else if (event.key === "a") { event.preventDefault(); pick("postponed"); }
    if (go) {
      event.preventDefault();
      if (stateEl && stateEl.classList.contains("dirty")) { clearTimeout(timer); save(); }
      window.location.href = go;
    }
  });
})();
