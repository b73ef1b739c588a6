// The term editor's live preview: as the query is typed, fetch what it would catch
// and swap the preview in; the save form takes the edited query along.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const query = document.getElementById("query");
  if (!query) return;
  const saved = document.getElementById("save-query");
  let timer = null;
  let asked = 0;
  query.addEventListener("input", () => {
    if (saved) saved.value = query.value;
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const number = ++asked;
      const answer = await fetch(query.dataset.preview + "&query=" + encodeURIComponent(query.value));
      const html = await answer.text();
      if (number !== asked) return;  // a later edit's preview is on its way
      const holder = document.createElement("div");
      holder.innerHTML = html;
      const fresh = holder.querySelector("#preview");
      const current = document.getElementById("preview");
      if (fresh && current) current.replaceWith(fresh);
    }, 300);
  });
});
