// « Valider et signer toutes les fiches prêtes »: sign the ready fiches one request at a time
// and show the progress. Each fiche is committed on its own, so an interrupted batch is resumed
// by clicking again. Without JavaScript the form posts the whole batch at once.
(() => {
  const batch = document.querySelector("form[data-sign-batch]");
  if (!batch) return;
  const progress = batch.querySelector("[data-sign-progress]");
  const bar = progress.querySelector("progress");
  const status = progress.querySelector("[role=status]");

  async function signOne(form) {
    const response = await fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    let answer = null;
    try {
      answer = await response.json();
    } catch (error) {
      answer = { ok: false, message: `Erreur ${response.status}` };
    }
    return answer;
  }

  batch.addEventListener("submit", async (event) => {
    const forms = [...document.querySelectorAll("form[data-sign-item]")];
    if (!forms.length) return; // the server answers « aucune décision prête »
    event.preventDefault();
    const button = batch.querySelector("button[type=submit]");
    button.disabled = true;
    progress.hidden = false;
    bar.max = forms.length;
    const refused = [];
    for (const [index, form] of forms.entries()) {
      status.textContent = `Signature de la fiche ${index + 1} sur ${forms.length}…`;
      const answer = await signOne(form);
      if (answer.ok) {
        const done = document.createElement("span");
        done.className = "badge text-bg-success";
        done.textContent = `Signée — code ${answer.code}`;
        form.replaceWith(done);
      } else {
        refused.push(`Dossier n° ${form.dataset.signItem} : ${answer.message}`);
      }
      bar.value = index + 1;
    }
    const signed = forms.length - refused.length;
    status.textContent = `${signed} fiche(s) signée(s) sur ${forms.length}.` +
      (refused.length ? ` Non signées : ${refused.join(" ; ")}` : "");
    const refresh = document.createElement("a");
    refresh.href = window.location.pathname;
    refresh.className = "btn btn-outline-primary btn-sm ms-2";
    refresh.textContent = "Actualiser la liste";
    status.append(refresh);
    button.disabled = false;
  });
})();
