// Completions as you type, from /api/suggest; the page works fully without this script.
(function () {
  "use strict";
  var input = document.getElementById("q");
  var list = document.getElementById("completions");
  if (!input || !list || !window.fetch) { return; }
  var timer = null;
  var last = "";
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var q = input.value;
      if (q.trim().length < 2 || q === last) { return; }
      last = q;
      fetch("/api/suggest?q=" + encodeURIComponent(q), {headers: {"Accept": "application/json"}})
        .then(function (r) { return r.ok ? r.json() : {suggestions: []}; })
        .then(function (data) {
          if (input.value !== q) { return; }
          list.replaceChildren();
          data.suggestions.forEach(function (text) {
            var option = document.createElement("option");
            option.value = text;  // textContent-safe: never parsed as HTML
            list.appendChild(option);
          });
        })
        .catch(function () { /* completions are a nicety; ignore network errors */ });
    }, 150);
  });
})();
