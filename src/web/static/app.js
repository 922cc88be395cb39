// Small helps for the pages; everything works without this script.
"use strict";

// A copy button beside a read-only field (shown only when script runs).
document.querySelectorAll("button[data-copy]").forEach((button) => {
  const field = document.getElementById(button.dataset.copy);
  if (!field || !navigator.clipboard) return;
  button.hidden = false;
  const label = button.textContent;
  button.addEventListener("click", async () => {
    await navigator.clipboard.writeText(field.value);
    button.textContent = button.dataset.copied;
    setTimeout(() => { button.textContent = label; }, 2000);
  });
});

// The board: dropping a card on another column opens that step on the
// project's page (with its reason field); a move the lifecycle does not
// allow is refused here, and the card stays where it was.
const board = document.querySelector(".board");
if (board) {
  const status = document.getElementById("board-status");
  let dragged = null;
  board.addEventListener("dragstart", (e) => {
    dragged = e.target.closest(".project-card");
    if (dragged) e.dataTransfer.setData("text/plain", dragged.dataset.project);
  });
  board.querySelectorAll(".column").forEach((column) => {
    column.addEventListener("dragover", (e) => { e.preventDefault(); column.classList.add("over"); });
    column.addEventListener("dragleave", () => column.classList.remove("over"));
    column.addEventListener("drop", (e) => {
      e.preventDefault();
      column.classList.remove("over");
      if (!dragged || dragged.closest(".column") === column) return;
      const moves = Object.fromEntries(dragged.dataset.moves.split(" ").filter(Boolean).map((m) => m.split("=")));
      const action = moves[column.dataset.state];
      if (action) {
        window.location.href = `/projects/${dragged.dataset.project}#step-${action}`;
      } else {
        const from = dragged.closest(".column").dataset.name;
        status.textContent = board.dataset.refused.replace("%from%", from).replace("%to%", column.dataset.name);
        status.hidden = false;
      }
    });
  });
}

// A project's documents: the badges follow the agent's work without a
// reload while anything is queued or waiting, and an upload shows its
// progress. Without script the page shows the state at load and the form
// posts as usual.
const documents = document.getElementById("documents");
if (documents) {
  const badge = (el, line) => {
    el.textContent = line.label;
    el.className = `badge ${line.class}`;
  };
  const refresh = async () => {
    const res = await fetch(documents.dataset.statusUrl, { headers: { accept: "application/json" } });
    if (!res.ok) return false;
    const state = await res.json();
    state.required.forEach((l) => {
      const el = documents.querySelector(`[data-required="${l.key}"]`);
      if (el) badge(el, l);
    });
    state.uploads.forEach((l) => {
      const el = documents.querySelector(`[data-upload="${l.key}"]`);
      if (el) badge(el, l);
    });
    return state.uploads.some((l) => l.status === "queued");
  };
  const poll = async () => {
    try {
      if (await refresh()) setTimeout(poll, 2000);
    } catch (_) { /* offline: the page keeps what it showed */ }
  };
  if (documents.querySelector(".badge.unclear")) poll();

  const form = document.getElementById("upload");
  const bar = document.getElementById("upload-progress");
  if (form && bar && window.FormData) {
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.upload.addEventListener("progress", (p) => {
        if (p.lengthComputable) bar.value = Math.round((p.loaded / p.total) * 100);
      });
      xhr.addEventListener("load", () => {
        // After the redirect, the project's page with its notice; a refusal
        // is the page the server sent, with its reason.
        if (xhr.status < 400) {
          window.location.href = xhr.responseURL;
        } else {
          document.open();
          document.write(xhr.responseText);
          document.close();
        }
      });
      bar.hidden = false;
      xhr.send(new FormData(form));
    });
  }
}

// The review queue by keyboard: j and k move between documents, a and r
// choose approve or reject, c goes to the comment. Keys typed into a field
// stay text.
const reviews = document.querySelectorAll("article.review");
if (reviews.length) {
  const help = document.getElementById("shortcuts");
  if (help) help.hidden = false;
  let current = 0;
  const go = (i) => {
    current = Math.max(0, Math.min(reviews.length - 1, i));
    const heading = reviews[current].querySelector("h2");
    heading.tabIndex = -1;
    heading.focus();
    heading.scrollIntoView({ block: "start" });
  };
  document.addEventListener("keydown", (e) => {
    const typing = e.target instanceof Element && e.target.closest("input, textarea, select");
    if (e.ctrlKey || e.metaKey || e.altKey || typing) return;
    const article = reviews[current];
    const choose = (value) => {
      const radio = article.querySelector(`input[name=decision][value=${value}]`);
      if (radio) { radio.checked = true; radio.focus(); }
    };
    switch (e.key) {
      case "j": go(current + 1); break;
      case "k": go(current - 1); break;
      case "a": choose("approve"); break;
      case "r": choose("reject"); break;
      case "c": article.querySelector("textarea[name=comment]")?.focus(); e.preventDefault(); break;
      default: return;
    }
  });
}
