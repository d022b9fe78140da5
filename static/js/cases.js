// Case form enhancements. Everything works without JavaScript (submit buttons re-render the
// form on the server); this file makes the same things happen in place:
//  - type-ahead on coded fields (ARIA 1.2 combobox with a listbox popup),
//  - adding tumour / treatment / staging rows without a round trip,
//  - showing the site-specific block of each tumour from its topography code,
//  - filtering organs by appareil and the fields by the nature of the discussion.
//  - previewing each tumour's stage group as T, N and M are typed (GET /stade/apercu).
(function () {
  "use strict";

  const form = document.getElementById("case-form");
  if (!form) {
    return;
  }
  const searchUrl = form.dataset.terminologyUrl;
  const MIN_CHARS = 2;
  const LIMIT = 12;

  // --- sites (same rule as staging/biomarkers.py) ----------------------------------------------
  const SITE_PREFIXES = [
    ["C50", "breast"], ["C18", "colorectal"], ["C19", "colorectal"], ["C20", "colorectal"],
    ["C34", "lung"], ["C61", "prostate"],
  ];

  function siteFor(code) {
    const value = (code || "").trim().toUpperCase();
    for (const [prefix, site] of SITE_PREFIXES) {
      if (value === prefix || value.startsWith(prefix + ".") || value.startsWith(prefix + "+") ||
          new RegExp("^" + prefix + "[0-9]$").test(value)) {
        return site;
      }
    }
    return null;
  }

  function updateSiteBlocks(row) {
    const input = row.querySelector('input[name$="-topography_code"]');
    const site = siteFor(input ? input.value : "");
    row.querySelectorAll("[data-site-block]").forEach((block) => {
      block.hidden = block.dataset.siteBlock !== site;
    });
    const hint = row.querySelector("[data-site-hint]");
    if (hint) {
      hint.hidden = site !== null;
    }
  }

  // --- combobox --------------------------------------------------------------------------------
  let liveRegion = null;

  function announce(text) {
    if (!liveRegion) {
      liveRegion = document.createElement("div");
      liveRegion.className = "visually-hidden";
      liveRegion.setAttribute("aria-live", "polite");
      form.appendChild(liveRegion);
    }
    liveRegion.textContent = text;
  }

  function enhance(container) {
    const input = container.querySelector("input");
    if (!input || input.getAttribute("role") === "combobox") {
      return;
    }
    let list = container.querySelector('[role="listbox"]');
    if (!list) {
      list = document.createElement("ul");
      list.setAttribute("role", "listbox");
      list.className = "combobox-list";
      list.hidden = true;
      input.insertAdjacentElement("afterend", list);
    }
    list.id = input.id + "-listbox";
    list.setAttribute("aria-label", "Suggestions");
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", list.id);
  }

  function comboParts(input) {
    const container = input.closest("[data-combobox]");
    return {
      container,
      list: container.querySelector('[role="listbox"]'),
      label: container.querySelector("[data-code-label]"),
    };
  }

  function close(input) {
    const { list } = comboParts(input);
    list.hidden = true;
    list.replaceChildren();
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  function options(input) {
    return Array.from(comboParts(input).list.querySelectorAll('[role="option"]'));
  }

  function highlight(input, index) {
    const items = options(input);
    items.forEach((item, i) => item.setAttribute("aria-selected", i === index ? "true" : "false"));
    if (index >= 0 && items[index]) {
      input.setAttribute("aria-activedescendant", items[index].id);
      items[index].scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function choose(input, option) {
    const { label } = comboParts(input);
    input.value = option.dataset.code;
    if (label) {
      label.textContent = option.dataset.code + " — " + option.dataset.label;
    }
    close(input);
    input.dispatchEvent(new Event("change", { bubbles: true }));
  }

  let pending = null;
  let timer = null;

  function search(input) {
    const { container, list } = comboParts(input);
    const query = input.value.trim();
    if (query.length < MIN_CHARS) {
      close(input);
      return;
    }
    if (pending) {
      pending.abort();
    }
    pending = new AbortController();
    const url = new URL(searchUrl, window.location.href);
    url.searchParams.set("jeu", container.dataset.valueSet);
    url.searchParams.set("q", query);
    url.searchParams.set("limite", String(LIMIT));
    fetch(url, { signal: pending.signal, credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((response) => (response.ok ? response.json() : []))
      .then((results) => {
        if (document.activeElement !== input) {
          return;
        }
        list.replaceChildren();
        results.forEach((result, i) => {
          const item = document.createElement("li");
          item.setAttribute("role", "option");
          item.id = input.id + "-option-" + i;
          item.setAttribute("aria-selected", "false");
          item.dataset.code = result.code;
          item.dataset.label = result.label;
          const code = document.createElement("span");
          code.className = "code";
          code.textContent = result.code;
          item.append(code, document.createTextNode(result.label));
          list.appendChild(item);
        });
        const count = results.length;
        list.hidden = count === 0;
        input.setAttribute("aria-expanded", count > 0 ? "true" : "false");
        announce(count === 0 ? "Aucune suggestion." :
          count + " suggestion" + (count > 1 ? "s" : "") + " : flèches haut et bas pour parcourir, Entrée pour choisir.");
      })
      .catch(() => {});
  }

  form.addEventListener("input", (event) => {
    const input = event.target;
    if (input.getAttribute && input.getAttribute("role") === "combobox") {
      const { label } = comboParts(input);
      if (label) {
        label.textContent = "";
      }
      clearTimeout(timer);
      timer = setTimeout(() => search(input), 200);
    }
    const row = input.closest && input.closest("[data-tumour-row]");
    if (row && input.name && input.name.endsWith("-topography_code")) {
      updateSiteBlocks(row);
    }
  });

  form.addEventListener("change", (event) => {
    const row = event.target.closest("[data-tumour-row]");
    if (row) {
      updateSiteBlocks(row);
    }
    if (event.target.name === "appareil_code") {
      filterOrgans();
    }
    if (event.target.name === "nature") {
      showNatureFields();
    }
  });

  form.addEventListener("keydown", (event) => {
    const input = event.target;
    if (!input.getAttribute || input.getAttribute("role") !== "combobox") {
      return;
    }
    const items = options(input);
    const open = input.getAttribute("aria-expanded") === "true";
    const current = items.findIndex((item) => item.getAttribute("aria-selected") === "true");
    if (event.key === "ArrowDown") {
      event.preventDefault();
      if (!open) {
        search(input);
      } else {
        highlight(input, Math.min(current + 1, items.length - 1));
      }
    } else if (event.key === "ArrowUp" && open) {
      event.preventDefault();
      highlight(input, Math.max(current - 1, 0));
    } else if (event.key === "Enter" && open) {
      event.preventDefault(); // never submit the form while choosing
      if (current >= 0) {
        choose(input, items[current]);
      } else if (items.length === 1) {
        choose(input, items[0]);
      }
    } else if (event.key === "Escape" && open) {
      event.preventDefault();
      close(input);
    } else if (event.key === "Tab" && open && current >= 0) {
      choose(input, items[current]);
    }
  });

  form.addEventListener("mousedown", (event) => {
    const option = event.target.closest('[role="option"]');
    if (option) {
      event.preventDefault(); // keep the focus in the input
      const input = option.closest("[data-combobox]").querySelector('input[role="combobox"]');
      choose(input, option);
    }
  });

  form.addEventListener("focusout", (event) => {
    const input = event.target;
    if (input.getAttribute && input.getAttribute("role") === "combobox") {
      setTimeout(() => close(input), 150);
    }
  });

  // --- rows ------------------------------------------------------------------------------------
  const RENUMBERED = ["name", "id", "for", "aria-describedby", "aria-controls", "data-add-row", "data-rows"];

  function renumber(element, oldPrefix, newPrefix) {
    const all = [element, ...element.querySelectorAll("*")];
    all.forEach((node) => {
      RENUMBERED.forEach((attribute) => {
        const value = node.getAttribute(attribute);
        if (value && value.includes(oldPrefix)) {
          node.setAttribute(attribute, value.split(oldPrefix).join(newPrefix));
        }
      });
    });
  }

  function reset(element) {
    element.querySelectorAll("input, textarea, select").forEach((field) => {
      if (field.type === "checkbox" || field.type === "radio") {
        field.checked = false;
      } else if (field.tagName === "SELECT") {
        const fallback = field.querySelector('option[value=""]') ? "" : field.options[0].value;
        field.value = field.name.endsWith("-tnm_edition") ? "UICC8" : fallback;
        Array.from(field.options).forEach((option) => { option.selected = option.value === field.value; });
      } else if (field.type !== "submit" && field.type !== "button") {
        field.value = "";
      }
      field.classList.remove("is-invalid");
      field.removeAttribute("aria-invalid");
    });
    element.querySelectorAll(".invalid-feedback, .conflict-note").forEach((node) => node.remove());
    element.querySelectorAll("[data-code-label]").forEach((node) => { node.textContent = ""; });
    element.querySelectorAll("[data-stage-preview]").forEach((node) => { node.hidden = true; node.replaceChildren(); });
    element.querySelectorAll('[role="listbox"]').forEach((node) => { node.hidden = true; node.replaceChildren(); });
    element.querySelectorAll('[role="combobox"]').forEach((input) => {
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    });
  }

  function addRow(containerName) {
    const container = form.querySelector('[data-rows="' + containerName + '"]');
    if (!container) {
      return false;
    }
    const rows = Array.from(container.children).filter((node) => node.hasAttribute("data-row"));
    if (rows.length === 0) {
      return false;
    }
    const last = rows[rows.length - 1];
    const oldIndex = rows.length - 1;
    const newIndex = rows.length;
    const clone = last.cloneNode(true);
    renumber(clone, containerName + "-" + oldIndex + "-", containerName + "-" + newIndex + "-");
    // A new tumour starts with a single empty staging row.
    clone.querySelectorAll("[data-rows]").forEach((nested) => {
      const nestedRows = Array.from(nested.children).filter((node) => node.hasAttribute("data-row"));
      nestedRows.slice(1).forEach((node) => node.remove());
      if (nestedRows.length > 1) {
        const prefix = nested.dataset.rows + "-";
        const match = (nestedRows[0].querySelector("[name]") || { name: "" }).name.match(/-(\d+)-[^-]+$/);
        if (match) {
          renumber(nestedRows[0], prefix + match[1] + "-", prefix + "0-");
        }
      }
    });
    clone.querySelectorAll('button[value^="add_staging-"]').forEach((button) => {
      button.value = "add_staging-" + newIndex;
    });
    const number = clone.querySelector("[data-row-number]");
    if (number) {
      number.textContent = String(newIndex + 1);
    }
    reset(clone);
    last.insertAdjacentElement("afterend", clone);
    clone.querySelectorAll("[data-combobox]").forEach(enhance);
    if (clone.hasAttribute("data-tumour-row")) {
      updateSiteBlocks(clone);
    }
    const first = clone.querySelector("input:not([type=hidden]), select, textarea");
    if (first) {
      first.focus();
    }
    announce("Ligne ajoutée.");
    return true;
  }

  form.addEventListener("click", (event) => {
    const button = event.target.closest("[data-add-row]");
    if (button && addRow(button.dataset.addRow)) {
      event.preventDefault();
    }
  });

  // --- live stage preview (same engine as the save: rcp_app/staging/preview.py) --------------
  // Form field suffix -> query parameter of the preview endpoint.
  const STAGE_FIELDS = {
    topography_code: "topographie", tnm_edition: "edition",
    clinical_t: "ct", clinical_n: "cn", clinical_m: "cm",
    pathological_t: "pt", pathological_n: "pn", pathological_m: "pm",
    bm_prostate_psa: "psa", bm_prostate_isup: "isup",
    bm_prostate_gleason_primary: "gleason_majoritaire",
    bm_prostate_gleason_secondary: "gleason_secondaire",
  };
  const TNM_SUFFIXES = ["clinical_t", "clinical_n", "clinical_m", "pathological_t", "pathological_n", "pathological_m"];
  const STAGE_DELAY = 300;
  const stageState = new WeakMap(); // row -> {timer, controller}

  function fieldSuffix(name) {
    const match = (name || "").match(/^tumour_rows-\d+-([a-z_]+)$/);
    return match && Object.prototype.hasOwnProperty.call(STAGE_FIELDS, match[1]) ? match[1] : null;
  }

  function showStage(box, answer) {
    const title = document.createElement("strong");
    title.textContent = answer.text;
    const parts = [title];
    (answer.notes || []).forEach((note) => {
      const line = document.createElement("span");
      line.className = "stage-preview-note";
      line.textContent = note;
      parts.push(line);
    });
    box.replaceChildren(...parts);
    box.dataset.stageGroup = answer.group || "";
    box.classList.toggle("stage-preview-missing", !answer.group);
    box.hidden = false;
  }

  function previewStage(row) {
    const box = row.querySelector("[data-stage-preview]");
    if (!box || !box.dataset.url) {
      return;
    }
    const params = new URLSearchParams();
    let typed = false;
    row.querySelectorAll("input[name], select[name]").forEach((field) => {
      const suffix = fieldSuffix(field.name);
      if (suffix && field.value.trim()) {
        params.set(STAGE_FIELDS[suffix], field.value.trim());
        typed = typed || TNM_SUFFIXES.includes(suffix);
      }
    });
    const state = stageState.get(row) || {};
    if (state.controller) {
      state.controller.abort();
    }
    if (!typed) {
      box.hidden = true;
      box.replaceChildren();
      stageState.set(row, {});
      return;
    }
    const controller = new AbortController();
    stageState.set(row, { controller });
    fetch(box.dataset.url + "?" + params.toString(), {
      signal: controller.signal, credentials: "same-origin", headers: { Accept: "application/json" },
    })
      .then((response) => response.json().then((body) => ({ ok: response.ok, body })))
      .then(({ ok, body }) => {
        showStage(box, ok ? body : { text: "Aperçu du stade indisponible", notes: [body.error || ""] });
      })
      .catch((error) => {
        if (error.name !== "AbortError") {
          showStage(box, { text: "Aperçu du stade indisponible", notes: [] });
        }
      });
  }

  function scheduleStage(row) {
    const state = stageState.get(row) || {};
    clearTimeout(state.timer);
    state.timer = setTimeout(() => previewStage(row), STAGE_DELAY);
    stageState.set(row, state);
  }

  ["input", "change"].forEach((type) => {
    form.addEventListener(type, (event) => {
      const row = event.target.closest && event.target.closest("[data-tumour-row]");
      if (row && fieldSuffix(event.target.name)) {
        scheduleStage(row);
      }
    });
  });

  // --- organs by appareil, fields by nature ---------------------------------------------------
  function filterOrgans() {
    const appareil = form.querySelector('select[name="appareil_code"]');
    const organ = form.querySelector('select[name="organ_code"]');
    if (!appareil || !organ) {
      return;
    }
    Array.from(organ.options).forEach((option) => {
      const parent = option.dataset.appareil;
      const visible = !option.value || !appareil.value || !parent || parent === appareil.value;
      option.hidden = !visible;
      option.disabled = !visible;
    });
    if (organ.selectedOptions.length && organ.selectedOptions[0].disabled) {
      organ.value = "";
    }
  }

  function showNatureFields() {
    const nature = form.querySelector('select[name="nature"]');
    if (!nature) {
      return;
    }
    form.querySelectorAll("[data-nature-field]").forEach((node) => {
      node.hidden = node.dataset.natureField !== nature.value;
    });
  }

  // --- start -----------------------------------------------------------------------------------
  form.querySelectorAll("[data-nojs-only]").forEach((node) => { node.hidden = true; });
  form.querySelectorAll("[data-combobox]").forEach(enhance);
  form.querySelectorAll("[data-tumour-row]").forEach(updateSiteBlocks);
  form.querySelectorAll("[data-tumour-row]").forEach(previewStage);
  filterOrgans();
  showNatureFields();
})();
