// Completions as you type, from /api/suggest, in an ARIA 1.2 combobox (list autocomplete):
// ↓/↑ move through the list, Entrée takes the highlighted completion and searches,
// Échap closes the list (and never empties the box). The page works without this script.
(function () {
  "use strict";
  var input = document.getElementById("q");
  var list = document.getElementById("completions");
  if (!input || !list || !window.fetch) { return; }
  var timer = null;
  var asked = "";
  var active = -1;

  function options() { return list.querySelectorAll("[role=option]"); }

  function close() {
    list.hidden = true;
    list.replaceChildren();
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function highlight(index) {
    var all = options();
    if (!all.length) { return; }
    active = (index + all.length) % all.length;
    all.forEach(function (option, i) {
      option.setAttribute("aria-selected", i === active ? "true" : "false");
    });
    input.setAttribute("aria-activedescendant", all[active].id);
  }

  function choose(option) {
    input.value = option.textContent;
    close();
    input.form.requestSubmit();
  }

  function show(suggestions) {
    list.replaceChildren();
    active = -1;
    input.removeAttribute("aria-activedescendant");
    suggestions.forEach(function (text, i) {
      var option = document.createElement("li");
      option.id = "completion-" + i;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      option.textContent = text;  // never parsed as HTML
      // mousedown, not click: the box keeps its focus and the list stays until chosen.
      option.addEventListener("mousedown", function (event) {
        event.preventDefault();
        choose(option);
      });
      list.appendChild(option);
    });
    var any = suggestions.length > 0;
    list.hidden = !any;
    input.setAttribute("aria-expanded", any ? "true" : "false");
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    var q = input.value;
    if (q.trim().length < 2) { close(); asked = ""; return; }
    timer = setTimeout(function () {
      if (q === asked) { return; }
      asked = q;
      fetch("/api/suggest?q=" + encodeURIComponent(q), {headers: {"Accept": "application/json"}})
        .then(function (r) { return r.ok ? r.json() : {suggestions: []}; })
        .then(function (data) { if (input.value === q) { show(data.suggestions); } })
        .catch(function () { /* completions are a nicety; ignore network errors */ });
    }, 120);
  });

  input.addEventListener("keydown", function (event) {
    var open = !list.hidden;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!open) { return; }
      event.preventDefault();
      highlight(active === -1 ? (event.key === "ArrowDown" ? 0 : -1)
                              : active + (event.key === "ArrowDown" ? 1 : -1));
    } else if (event.key === "Enter") {
      if (open && active >= 0) {
        event.preventDefault();
        choose(options()[active]);
      } else {
        close();
      }
    } else if (event.key === "Escape") {
      // A search box clears itself on Échap: keep what was typed, close the list only.
      event.preventDefault();
      close();
    }
  });

  input.addEventListener("blur", close);
})();
