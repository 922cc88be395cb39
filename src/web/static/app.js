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
