/* Suggested questions and answer ratings of the admissions chat widget. widget.js loads this
   file and calls AdmissionsChatFeedback(app).

   - Suggestions: GET {server}/webhooks/feedback/suggestions -> {"suggestions": ["…"]}, shown
     as buttons under the greeting while the conversation is empty; any failure shows nothing.
   - Rating: under each knowledge answer (custom.kb_id), "useful" / "not useful" (with an
     optional reason), POST {server}/webhooks/feedback/rating; 201 = stored, 409 = rated before.
     The rating is kept in the stored history, so an answer is rated once, across reloads. */
(function () {
  "use strict";

  var REASONS = ["wrong", "incomplete", "not_my_question", "other"];
  var MAX_SUGGESTIONS = 5;

  window.AdmissionsChatFeedback = function (app) {
    var S = app.S, D = app.D, el = D.el, button = D.button;
    var suggested = [], sugNode = null, asked = 0;

    /* ---------- suggested questions ---------- */
    function clean(data) {
      var out = [];
      (data && Array.isArray(data.suggestions) ? data.suggestions : []).forEach(function (q) {
        q = typeof q === "string" ? q.trim() : "";
        if (q && q.length <= 200 && out.indexOf(q) < 0 && out.length < MAX_SUGGESTIONS) { out.push(q); }
      });
      return out;
    }

    function hideSuggestions() {
      if (sugNode && sugNode.parentNode) { sugNode.parentNode.removeChild(sugNode); }
      sugNode = null;
    }

    // Under the greeting, while nothing was said yet.
    function showSuggestions() {
      hideSuggestions();
      if (!suggested.length || app.history().length) { return; }
      var id = "aw-sugg-" + D.uid();
      sugNode = el("div", "aw-suggestions", null, { role: "group", "aria-labelledby": id });
      sugNode.appendChild(el("p", "aw-suggestions-title", S.suggestions, { id: id }));
      var row = el("div", "aw-buttons");
      suggested.forEach(function (q) {
        var b = button("aw-choice", q);
        b.addEventListener("click", function () {
          if (app.send(q)) { app.focusAfterChoice(); }
        });
        row.appendChild(b);
      });
      sugNode.appendChild(row);
      app.log.appendChild(sugNode);
    }

    function loadSuggestions() {
      var n = ++asked;
      app.getJson("/webhooks/feedback/suggestions").then(function (data) {
        if (n !== asked) { return; }
        suggested = clean(data);
        showSuggestions();
      }, function () { /* no endpoint, offline…: no suggestions, and nothing to say about it */ });
    }

    /* ---------- rating ---------- */
    function lastQuestionBefore(entry) {
      var h = app.history(), i = h.indexOf(entry);
      for (i = (i < 0 ? h.length : i) - 1; i >= 0; i--) {
        if (h[i].who === "user" && !h[i].failed) { return String(h[i].text || ""); }
      }
      return "";
    }

    function rated(entry, box, status) {
      box.removeAttribute("role");
      box.removeAttribute("aria-labelledby");
      Array.prototype.slice.call(box.children).forEach(function (n) { if (n !== status) { box.removeChild(n); } });
      status.textContent = S.rated;
      if (entry.rating && entry.rating.useful === false) { box.appendChild(app.contact.offer()); }
    }

    function submit(entry, box, status, useful, reason) {
      var controls = box.querySelectorAll("button, input");
      Array.prototype.forEach.call(controls, function (c) { c.disabled = true; });
      var hadFocus = box.contains(document.activeElement);
      var enable = function () { Array.prototype.forEach.call(controls, function (c) { c.disabled = false; }); };
      if (!app.sessionId()) { status.textContent = S.rateFailed; enable(); return; }
      app.postJson("/webhooks/feedback/rating", {
        sender: app.sessionId(), message_id: entry.id, kb_id: String(entry.custom.kb_id),
        question: entry.question !== undefined ? entry.question : lastQuestionBefore(entry),
        useful: useful, reason: reason
      }).then(function (res) {
        if (res.status === 201 || res.status === 409 || (res.status === 200 && res.data && res.data.ok)) {
          entry.rating = { useful: useful, reason: reason };
          app.save();
          rated(entry, box, status);
          if (hadFocus) { status.focus(); }
        } else {
          status.textContent = S.rateFailed;
          enable();
        }
      }, function () {
        status.textContent = S.rateFailed;
        enable();
      });
    }

    function reasons(entry, box, status) {
      var set = el("fieldset", "aw-reason", null, { tabIndex: -1 });
      set.appendChild(el("legend", null, S.reasonLegend));
      REASONS.forEach(function (key) {
        var lab = el("label", "aw-radio");
        lab.appendChild(el("input", null, null, { type: "radio", name: "aw-reason-" + entry.id, value: key }));
        lab.appendChild(document.createTextNode(" " + S.reasons[key]));
        set.appendChild(lab);
      });
      var go = button("aw-rate-send", S.reasonSend);
      go.addEventListener("click", function () {
        var checked = set.querySelector("input:checked");
        submit(entry, box, status, false, checked ? checked.value : null);
      });
      set.appendChild(go);
      return set;
    }

    // The rating block of a knowledge answer (or its "thank you" once rated).
    function rating(entry) {
      var qid = "aw-rq-" + entry.id;
      var box = el("div", "aw-rate", null, { role: "group", "aria-labelledby": qid });
      var status = el("p", "aw-rate-status", null, { role: "status", tabIndex: -1 });
      if (entry.rating) {
        box.appendChild(status);
        rated(entry, box, status);
        return box;
      }
      box.appendChild(el("p", "aw-rate-q", S.rateQuestion, { id: qid }));
      var row = el("div", "aw-rate-buttons");
      var yes = button("aw-rate-btn", S.rateUseful, { "aria-label": S.rateUsefulName });
      var no = button("aw-rate-btn", S.rateNotUseful, { "aria-label": S.rateNotUsefulName });
      row.appendChild(yes);
      row.appendChild(no);
      box.appendChild(row);
      box.appendChild(status);
      yes.addEventListener("click", function () { submit(entry, box, status, true, null); });
      no.addEventListener("click", function () {
        var set = reasons(entry, box, status);
        box.replaceChild(set, row);
        set.focus();
      });
      return box;
    }

    return { rating: rating, loadSuggestions: loadSuggestions, showSuggestions: showSuggestions,
             hideSuggestions: hideSuggestions };
  };
}());
