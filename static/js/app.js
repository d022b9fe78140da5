// Progressive enhancements only: every page works without JavaScript.

// --- error summary (templates/macros.html, error_summary) ------------------------------------
// Focused on load, so that the page shows it (a long form's messages are far below the fold)
// and a screen reader reads it. Its links focus the field itself, not just scroll to it.
(() => {
  const summary = document.querySelector("[data-error-summary]");
  if (!summary) return;
  summary.focus();
  const focusable = "input:not([type=hidden]):not([disabled]), select, textarea, button";
  summary.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-error-link]");
    if (!link) return;
    const target = document.getElementById(decodeURIComponent(link.hash.slice(1)));
    if (!target) return;
    event.preventDefault();
    // A group (radio list, fieldset): its first control.
    const control = target.matches(focusable) ? target : target.querySelector(focusable) || target;
    for (let node = control.parentElement; node; node = node.parentElement) {
      if (node.tagName === "DETAILS") node.open = true;
    }
    const label = control.id && document.querySelector(`label[for="${CSS.escape(control.id)}"]`);
    // The label above the field in view too, not the field at the very top of the window.
    (label || control).scrollIntoView({ block: "center" });
    control.focus({ preventScroll: true });
    history.replaceState(null, "", link.hash);
  });
})();

// --- confirmations and slow actions ----------------------------------------------------------
// data-confirm="…" on a form or a button: asked before the form is sent.
// data-busy-label="…" on a form, a button or a link (core/forms.py SLOW_ACTIONS): once sent, the
// button is disabled and shows the label with a spinner (aria-busy, announced), and a second
// click or Enter is ignored: the action is sent once.
(() => {
  const busyForms = new WeakSet();

  function showBusy(element, label) {
    element.setAttribute("aria-busy", "true");
    element.classList.add("is-busy");
    element.dataset.idleHtml = element.innerHTML;
    const spinner = document.createElement("span");
    spinner.className = "spinner-border spinner-border-sm me-1";
    spinner.setAttribute("aria-hidden", "true");
    element.replaceChildren(spinner, document.createTextNode(label));
    let status = document.getElementById("busy-status");
    if (!status) {
      status = document.createElement("p");
      status.id = "busy-status";
      status.className = "visually-hidden";
      status.setAttribute("role", "status");
      status.setAttribute("aria-live", "polite");
      document.body.append(status);
    }
    status.textContent = label;
  }

  function showIdle(element) {
    element.removeAttribute("aria-busy");
    element.removeAttribute("aria-disabled");
    element.classList.remove("is-busy");
    if (element.dataset.idleHtml !== undefined) element.innerHTML = element.dataset.idleHtml;
    delete element.dataset.idleHtml;
    if (element.tagName === "BUTTON") element.disabled = false;
    const status = document.getElementById("busy-status");
    if (status) status.textContent = "";
  }

  // Plain buttons with data-confirm outside a slow form (post_button macro): asked on click.
  document.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-confirm]");
    if (!button || button.form) return; // a form's buttons: asked on submit, below
    if (!window.confirm(button.dataset.confirm)) event.preventDefault();
  });

  // Capture phase: before the page's own handlers (fiches.js signs the batch itself).
  document.addEventListener(
    "submit",
    (event) => {
      const form = event.target;
      if (busyForms.has(form)) {
        event.preventDefault();
        event.stopImmediatePropagation();
        return;
      }
      const submitter = event.submitter;
      const question = submitter?.dataset.confirm || form.dataset.confirm;
      if (question && !window.confirm(question)) {
        event.preventDefault();
        event.stopImmediatePropagation();
      }
    },
    true,
  );

  // Bubble phase: only a submission no script took over becomes busy.
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (event.defaultPrevented) return;
    const submitter = event.submitter || form.querySelector("button[type=submit], button:not([type])");
    const label = submitter?.dataset.busyLabel || form.dataset.busyLabel;
    if (!label) return;
    busyForms.add(form);
    form.setAttribute("aria-busy", "true");
    if (submitter) {
      // The browser reads the form after this event, and a disabled submitter sends nothing:
      // its name and value travel in a hidden field instead.
      if (submitter.name) {
        const kept = document.createElement("input");
        kept.type = "hidden";
        kept.name = submitter.name;
        kept.value = submitter.value;
        form.append(kept);
      }
      submitter.disabled = true;
      submitter.setAttribute("aria-disabled", "true");
      showBusy(submitter, label);
    }
  });

  // A slow download (a PDF rendered on demand): fetched here so that the link shows progress
  // until the file has arrived, then saved (attachment) or shown (inline) by the browser.
  document.addEventListener("click", async (event) => {
    const link = event.target.closest("a[data-busy-label]");
    if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    if (link.getAttribute("aria-busy") === "true") return; // already on its way
    showBusy(link, link.dataset.busyLabel);
    link.setAttribute("aria-disabled", "true");
    let response;
    try {
      response = await fetch(link.href, { credentials: "same-origin" });
    } catch (error) {
      response = null;
    }
    if (!response || !response.ok) {
      // The server's own error page says what went wrong.
      showIdle(link);
      window.location.assign(link.href);
      return;
    }
    const disposition = response.headers.get("Content-Disposition") || "";
    const name = /filename="?([^";]+)"?/.exec(disposition)?.[1] || "document.pdf";
    const url = URL.createObjectURL(await response.blob());
    showIdle(link);
    if (disposition.startsWith("inline")) {
      window.location.assign(url);
      return;
    }
    const save = document.createElement("a");
    save.href = url;
    save.download = name;
    document.body.append(save);
    save.click();
    save.remove();
    window.setTimeout(() => URL.revokeObjectURL(url), 60000);
  });

  // Back to a page kept in the browser's cache: its buttons are usable again.
  window.addEventListener("pageshow", (event) => {
    if (!event.persisted) return;
    document.querySelectorAll(".is-busy").forEach(showIdle);
    document.querySelectorAll("form[aria-busy]").forEach((form) => {
      form.removeAttribute("aria-busy");
      busyForms.delete(form);
    });
  });
})();
