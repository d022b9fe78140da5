// Agenda builder: drag and drop reorder (HTML5 drag events) and the "Monter" / "Descendre"
// buttons without reloading; the order is saved server-side with the agenda version.
// Without JavaScript the buttons are plain POST forms.
(function () {
  "use strict";
  const body = document.getElementById("agenda-body");
  if (!body || !body.dataset.reorderUrl) {
    return;
  }
  const status = document.getElementById("order-status");
  let dragged = null;

  function rows() {
    return Array.from(body.querySelectorAll(".agenda-row"));
  }

  function renumber() {
    rows().forEach(function (row, index) {
      row.querySelector(".agenda-position").textContent = String(index + 1);
    });
  }

  function setVersion(version) {
    body.dataset.version = String(version);
    document.querySelectorAll("input.agenda-version").forEach(function (input) {
      input.value = String(version);
    });
  }

  function save() {
    const data = new URLSearchParams();
    data.append("csrf_token", body.dataset.csrf);
    data.append("version", body.dataset.version);
    rows().forEach(function (row) {
      data.append("item_ids", row.dataset.itemId);
    });
    status.textContent = "Enregistrement…";
    fetch(body.dataset.reorderUrl, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "X-CSRFToken": body.dataset.csrf, Accept: "application/json" },
    })
      .then(function (response) {
        return response.json().then(function (json) {
          return { ok: response.ok, json: json };
        });
      })
      .then(function (result) {
        if (result.ok) {
          setVersion(result.json.version);
          status.textContent = "Ordre enregistré à " + result.json.saved_at;
          status.className = "text-success";
        } else {
          status.textContent = result.json.error || "L'ordre n'a pas été enregistré.";
          status.className = "text-danger";
        }
      })
      .catch(function () {
        status.textContent = "L'ordre n'a pas été enregistré (réseau) : rechargez la page.";
        status.className = "text-danger";
      });
  }

  body.addEventListener("dragstart", function (event) {
    dragged = event.target.closest(".agenda-row");
    if (!dragged) {
      return;
    }
    dragged.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", dragged.dataset.itemId);
  });

  body.addEventListener("dragover", function (event) {
    if (!dragged) {
      return;
    }
    event.preventDefault();
    const over = event.target.closest(".agenda-row");
    if (!over || over === dragged) {
      return;
    }
    const box = over.getBoundingClientRect();
    const after = event.clientY > box.top + box.height / 2;
    body.insertBefore(dragged, after ? over.nextSibling : over);
  });

  body.addEventListener("drop", function (event) {
    event.preventDefault();
  });

  body.addEventListener("dragend", function () {
    if (!dragged) {
      return;
    }
    dragged.classList.remove("dragging");
    dragged = null;
    renumber();
    save();
  });

  body.addEventListener("click", function (event) {
    const button = event.target.closest("button[data-direction]");
    if (!button) {
      return;
    }
    event.preventDefault();
    const row = button.closest(".agenda-row");
    if (button.dataset.direction === "up" && row.previousElementSibling) {
      body.insertBefore(row, row.previousElementSibling);
    } else if (button.dataset.direction === "down" && row.nextElementSibling) {
      body.insertBefore(row.nextElementSibling, row);
    } else {
      return;
    }
    renumber();
    button.focus();
    save();
  });
})();
