/* Messages of the admissions chat widget: bubbles, lists, links, sources, choice buttons and
   the screen-reader time of each message. widget.js loads this file and calls
   AdmissionsChatRender(app) with the widget's shared object (strings, helpers, actions).

   Every text goes through textContent (never innerHTML); links are http(s) only, built by
   AdmissionsChatDom.link with rel="noopener noreferrer". */
(function () {
  "use strict";

  window.AdmissionsChatRender = function (app) {
    var S = app.S, D = app.D, el = D.el, button = D.button;
    var URL_RE = /https?:\/\/[^\s<>"]+[^\s<>".,;:!?)»]/g;
    var ITEM_RE = /^\s*[-•]\s+/;

    // One line per document (an entry may cite several sections of the same one); a document
    // without an address is shown by its title alone.
    function sources(list) {
      var docs = [], byKey = {};
      list.forEach(function (src) {
        if (!src || typeof src !== "object") { return; }
        var key = String(src.doc || src.title || "");
        if (!byKey[key]) { byKey[key] = { title: String(src.title || src.doc || ""), url: src.url, sections: [] }; docs.push(byKey[key]); }
        if (src.section && byKey[key].sections.indexOf(String(src.section)) < 0) { byKey[key].sections.push(String(src.section)); }
      });
      var box = el("p", "aw-source");
      box.appendChild(el("span", "aw-source-label", docs.length > 1 ? S.sources : S.source));
      docs.forEach(function (d, i) {
        box.appendChild(document.createTextNode(i ? " ; " : " "));
        var a = d.url ? D.link("aw-source-link", d.url, d.title, S.newWindow) : null;
        box.appendChild(a || el("cite", null, d.title));
        if (d.sections.length) { box.appendChild(document.createTextNode(" (" + d.sections.join(" ; ") + ")")); }
      });
      return box;
    }

    // Text nodes into `node`, with the http(s) addresses the text quotes as links (never as HTML).
    function linkify(node, text) {
      var last = 0, m;
      URL_RE.lastIndex = 0;
      while ((m = URL_RE.exec(text)) !== null) {
        var a = D.link("aw-link", m[0], m[0], S.newWindow);
        if (!a) { continue; }
        node.appendChild(document.createTextNode(text.slice(last, m.index)));
        node.appendChild(a);
        last = m.index + m[0].length;
      }
      node.appendChild(document.createTextNode(text.slice(last)));
      return node;
    }

    // A paragraph of the bot's text: lines starting with "- " become a real list.
    function block(bubble, text) {
      var lines = text.split("\n"), para = [], list = null;
      function flush() {
        if (para.length && para.join("").trim()) { bubble.appendChild(linkify(el("p"), para.join("\n"))); }
        para = [];
      }
      lines.forEach(function (line) {
        if (ITEM_RE.test(line)) {
          flush();
          if (!list) { list = el("ul", "aw-list"); bubble.appendChild(list); }
          list.appendChild(linkify(el("li"), line.replace(ITEM_RE, "")));
        } else {
          list = null;
          para.push(line);
        }
      });
      flush();
    }

    function timeText(ms) {
      var d = new Date(ms);
      return S.at.replace("{h}", String(d.getHours())).replace("{m}", ("0" + d.getMinutes()).slice(-2));
    }

    // The full answer (custom.detail) of a short answer, folded under "Voir le détail": the
    // message's text holds both, the visitor reads the short answer first.
    function detail(entry, text) {
      var box = el("div", "aw-detail");
      var id = "aw-detail-" + String(entry.id || D.uid());
      var body = el("div", "aw-detail-body", null, { id: id });
      block(body, text);
      var toggle = button("aw-detail-toggle", entry.open ? S.detailHide : S.detailShow);
      toggle.setAttribute("aria-expanded", entry.open ? "true" : "false");
      toggle.setAttribute("aria-controls", id);
      body.hidden = !entry.open;
      toggle.addEventListener("click", function () {
        entry.open = !entry.open;
        body.hidden = !entry.open;
        toggle.setAttribute("aria-expanded", entry.open ? "true" : "false");
        toggle.textContent = entry.open ? S.detailHide : S.detailShow;
        app.save();
      });
      box.appendChild(toggle);
      box.appendChild(body);
      return box;
    }

    function choices(entry) {
      var group = el("div", "aw-buttons", null, { role: "group", "aria-label": S.choices });
      entry.buttons.forEach(function (b) {
        var btn = button("aw-choice", b.title);
        btn.disabled = !!entry.used;
        btn.addEventListener("click", function () {
          if (app.send(String(b.payload || b.title), String(b.title))) {
            entry.used = true;
            app.save();
            Array.prototype.forEach.call(group.querySelectorAll("button"), function (x) { x.disabled = true; });
            app.focusAfterChoice();
          }
        });
        group.appendChild(btn);
      });
      return group;
    }

    // One message of the log. `entry` is a history entry ({who, text, custom, buttons, time, …}).
    function message(entry, index) {
      var who = entry.who === "user" ? "user" : "bot";
      var item = el("div", "aw-msg aw-" + who + (entry.notice ? " aw-notice" : ""));
      var bubble = el("div", "aw-bubble");
      bubble.appendChild(el("span", "aw-sr", who === "user" ? S.you : S.bot));
      var custom = entry.custom && typeof entry.custom === "object" ? entry.custom : null;
      var folded = !!(custom && typeof custom.short === "string" && custom.short.trim() &&
                      typeof custom.detail === "string" && custom.detail.trim());
      var paras = String(folded ? custom.short : entry.text || "").split(/\n\s*\n/);
      var hasSources = custom && Array.isArray(custom.sources) && custom.sources.length > 0;
      // Knowledge answers end with a plain "Source : …" paragraph (domain.yml); the custom
      // payload says the same with links, so show that one instead.
      if (hasSources && paras.length > 1 && /^Sources?\s*:/.test(paras[paras.length - 1])) { paras.pop(); }
      paras.forEach(function (t) {
        if (!t.trim()) { return; }
        if (who === "bot") { block(bubble, t); } else { bubble.appendChild(linkify(el("p"), t)); }
      });
      if (entry.failed) { bubble.appendChild(el("span", "aw-failed", " " + S.notSentMark)); }
      item.appendChild(bubble);
      if (entry.time) {
        var t = el("time", "aw-sr", timeText(entry.time));
        t.setAttribute("datetime", new Date(entry.time).toISOString());
        item.appendChild(t);
      }
      if (folded) { item.appendChild(detail(entry, custom.detail)); }
      if (hasSources) { item.appendChild(sources(custom.sources)); }
      if (Array.isArray(entry.buttons) && entry.buttons.length) { item.appendChild(choices(entry)); }
      if (custom && typeof custom.kb_id === "string" && custom.kb_id && entry.id) {
        item.appendChild(app.feedback.rating(entry));
      }
      if (custom && custom.offer_contact === true) { item.appendChild(app.contact.offer()); }
      if (index !== undefined) { item.setAttribute("data-index", String(index)); }
      return item;
    }

    return { message: message, timeText: timeText };
  };
}());
