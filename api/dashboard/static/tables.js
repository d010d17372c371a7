"use strict";
// Click a column header marked data-sort to sort its table; cells may carry the value to sort by in data-value.
document.addEventListener("click", (event) => {
  const th = event.target.closest("th[data-sort]");
  if (!th) return;
  const table = th.closest("table");
  const column = Array.from(th.parentNode.children).indexOf(th);
  const ascending = !th.classList.contains("asc");
  table.querySelectorAll("th").forEach((h) => h.classList.remove("asc", "desc"));
  th.classList.add(ascending ? "asc" : "desc");
  const numeric = th.dataset.sort === "num";
  const key = (row) => {
    const cell = row.children[column];
    const raw = cell.dataset.value !== undefined ? cell.dataset.value : cell.textContent.trim();
    return numeric ? (raw === "" ? NaN : parseFloat(raw)) : raw.toLowerCase();
  };
  const body = table.tBodies[0];
  const rows = Array.from(body.rows);
  rows.sort((a, b) => {
    const ka = key(a), kb = key(b);
    if (numeric) {  // rows without a number go last either way
      if (isNaN(ka) || isNaN(kb)) return isNaN(ka) - isNaN(kb);
      return ascending ? ka - kb : kb - ka;
    }
    return ascending ? ka.localeCompare(kb) : kb.localeCompare(ka);
  });
  rows.forEach((row) => body.appendChild(row));
});

// Filter selects submit their form on change (no inline handlers: the CSP allows scripts from files only).
document.addEventListener("DOMContentLoaded", () => {
  for (const select of document.querySelectorAll("select[data-autosubmit]")) {
    select.addEventListener("change", () => select.form.submit());
  }
});
