/* Chat widget of the admissions assistant: one <script> tag, talks to Rasa over socket.io.

   Embed:  <script src="https://…/widget/widget.js" defer data-server-url="https://bot.example.fr"
                   data-title="…" data-greeting="…" data-primary-color="#1a4e8a"></script>
   The stylesheet, the French strings (strings.fr.js), DOM helpers (dom.js) and the socket.io client (vendor/) are
   loaded from the same folder as this file: nothing comes from a third-party host.

   Safety: every text from the bot or the visitor goes through textContent, never innerHTML;
   links are built only for http(s) URLs, with rel="noopener noreferrer". */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || window.AdmissionsChat) { return; }
  var base = script.src.replace(/[^/]*([?#].*)?$/, "");
  var data = script.dataset;
  var KEY = "admissions-chat:" + (data.storageKey || "default") + ":";
  var MAX_HISTORY = 200;
  var el, button, safeUrl, local, tab;  // helpers from dom.js, set before start()

  function load(src, done) {
    var tag = document.createElement("script");
    tag.src = src;
    tag.async = false;
    tag.onload = done;
    tag.onerror = function () { console.error("admissions-chat: cannot load " + src); };
    document.head.appendChild(tag);
  }

  var css = document.createElement("link");
  css.rel = "stylesheet";
  css.href = base + "widget.css";
  document.head.appendChild(css);

  // Keep the host page's own `io` global, if any: ours is only captured by this closure.
  var hostIo = window.io;
  load(base + "strings.fr.js", function () {
    load(base + "dom.js", function () {
      load(base + "vendor/socket.io.min.js", function () {
        var io = window.io;
        if (hostIo === undefined) { delete window.io; } else { window.io = hostIo; }
        var D = window.AdmissionsChatDom;
        el = D.el; button = D.button; safeUrl = D.safeUrl;
        local = D.store("localStorage", KEY);
        tab = D.store("sessionStorage", KEY);
        start(io, window.AdmissionsChatStrings || {});
      });
    });
  });

  function start(io, S) {
    var cfg = {
      server: data.serverUrl || window.location.origin,
      path: data.socketPath || "/socket.io/",
      title: data.title || S.title,
      greeting: data.greeting || S.greeting,
      days: data.retentionDays || "90",
      replyTimeout: parseInt(data.replyTimeoutMs || "30000", 10)
    };
    var history = [];
    try { history = JSON.parse(local.get("history") || "[]") || []; } catch (e) { history = []; }
    var sessionId = local.get("session");
    var socket = null, ready = false, wasConnected = false, inFlight = 0, failedText = null;

    /* ---------- DOM ---------- */
    var root = el("div", "aw-root", null, { "data-admissions-chat": "" });
    if (data.primaryColor) { root.style.setProperty("--aw-primary", data.primaryColor); }
    if (data.primaryTextColor) { root.style.setProperty("--aw-on-primary", data.primaryTextColor); }
    if (data.accentColor) { root.style.setProperty("--aw-accent", data.accentColor); }

    var launcher = button("aw-launcher", null, { "aria-expanded": "false", "aria-controls": "aw-panel",
                                                 "aria-label": S.launcher });
    launcher.appendChild(window.AdmissionsChatDom.icon());
    launcher.appendChild(el("span", "aw-launcher-text", S.launcherShort));

    var panel = el("section", "aw-panel", null, { id: "aw-panel", hidden: true, role: "dialog",
                                                  "aria-modal": "false", "aria-labelledby": "aw-title" });

    var header = el("div", "aw-header");
    var title = el("h2", "aw-title", cfg.title, { id: "aw-title" });
    var reset = button("aw-reset", S.newConversation);
    var close = button("aw-close", null, { "aria-label": S.close });
    close.appendChild(el("span", null, "×")).setAttribute("aria-hidden", "true");
    header.appendChild(title);
    header.appendChild(close);

    var privacy = el("div", "aw-privacy", null, { id: "aw-privacy" });
    privacy.appendChild(el("p", "aw-privacy-title", S.privacyTitle));
    privacy.appendChild(el("p", null, String(S.privacy).replace("{days}", cfg.days)));
    var privacyOk = button("aw-privacy-ok", S.privacyOk);
    privacy.appendChild(privacyOk);
    privacy.hidden = local.get("privacy") === "1";

    var log = el("div", "aw-log", null, { role: "log", "aria-live": "polite", "aria-label": S.logLabel,
                                          tabIndex: 0 });

    var typing = el("div", "aw-typing");
    typing.hidden = true;
    var dots = el("span", "aw-dots", null, { "aria-hidden": "true" });
    dots.appendChild(el("i"));
    dots.appendChild(el("i"));
    dots.appendChild(el("i"));
    typing.appendChild(dots);
    typing.appendChild(el("span", null, S.typing));

    var status = el("div", "aw-status", null, { role: "status" });
    var alertBox = el("div", "aw-alert", null, { role: "alert" });
    var alertText = el("p", "aw-alert-text");
    var retry = button("aw-retry", S.retry, { hidden: true });
    alertBox.appendChild(alertText);
    alertBox.appendChild(retry);

    var form = el("form", "aw-form");
    form.noValidate = true;
    var label = el("label", "aw-label", S.inputLabel, { htmlFor: "aw-input" });
    var hint = el("p", "aw-hint", S.inputHint, { id: "aw-hint" });
    var input = el("textarea", "aw-input", null, {
      id: "aw-input", rows: 2, maxLength: parseInt(data.maxChars || "1000", 10),
      placeholder: S.inputPlaceholder, "aria-describedby": "aw-hint", value: tab.get("draft") || ""
    });
    var sendBtn = el("button", "aw-send", S.send, { type: "submit" });
    var row = el("div", "aw-row");
    row.appendChild(input);
    row.appendChild(sendBtn);
    var foot = el("div", "aw-foot");
    foot.appendChild(hint);
    foot.appendChild(reset);
    form.appendChild(label);
    form.appendChild(row);
    form.appendChild(foot);

    [header, privacy, log, typing, status, alertBox, form].forEach(function (n) { panel.appendChild(n); });
    root.appendChild(panel);
    root.appendChild(launcher);
    document.body.appendChild(root);

    /* ---------- messages ---------- */
    function scrollDown() { log.scrollTop = log.scrollHeight; }

    // One line per document (an entry may cite several sections of the same one).
    function renderSources(custom) {
      var docs = [], byKey = {};
      custom.sources.forEach(function (src) {
        if (!src || typeof src !== "object") { return; }
        var key = String(src.doc || src.title || "");
        if (!byKey[key]) { byKey[key] = { title: String(src.title || src.doc || ""), url: src.url, sections: [] }; docs.push(byKey[key]); }
        if (src.section && byKey[key].sections.indexOf(String(src.section)) < 0) { byKey[key].sections.push(String(src.section)); }
      });
      var box = el("p", "aw-source");
      box.appendChild(el("span", "aw-source-label", docs.length > 1 ? S.sources : S.source));
      docs.forEach(function (d, i) {
        box.appendChild(document.createTextNode(i ? " ; " : " "));
        var href = d.url ? safeUrl(d.url) : null;
        if (href) {
          var a = el("a", "aw-source-link", d.title);
          a.href = href;
          a.target = "_blank";
          a.rel = "noopener noreferrer";
          a.appendChild(el("span", "aw-sr", " " + S.newWindow));
          box.appendChild(a);
        } else {
          box.appendChild(el("cite", null, d.title));
        }
        if (d.sections.length) { box.appendChild(document.createTextNode(" (" + d.sections.join(" ; ") + ")")); }
      });
      return box;
    }

    // A paragraph as text nodes, with the http(s) addresses it quotes as links (never as HTML).
    function linkify(text) {
      var p = el("p"), re = /https?:\/\/[^\s<>"]+[^\s<>".,;:!?)»]/g, last = 0, m;
      while ((m = re.exec(text)) !== null) {
        var href = safeUrl(m[0]);
        if (!href) { continue; }
        p.appendChild(document.createTextNode(text.slice(last, m.index)));
        var a = el("a", "aw-link", m[0]);
        a.href = href;
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        a.appendChild(el("span", "aw-sr", " " + S.newWindow));
        p.appendChild(a);
        last = m.index + m[0].length;
      }
      p.appendChild(document.createTextNode(text.slice(last)));
      return p;
    }

    function render(entry, index) {
      var who = entry.who === "user" ? "user" : "bot";
      var item = el("div", "aw-msg aw-" + who);
      var bubble = el("div", "aw-bubble");
      bubble.appendChild(el("span", "aw-sr", who === "user" ? S.you : S.bot));
      var paras = String(entry.text || "").split(/\n\s*\n/);
      var custom = entry.custom && typeof entry.custom === "object" ? entry.custom : null;
      // Knowledge answers end with a plain "Source : …" paragraph (domain.yml); the custom
      // payload says the same with links, so show that one instead.
      if (custom && Array.isArray(custom.sources) && paras.length > 1 && /^Sources?\s*:/.test(paras[paras.length - 1])) {
        paras.pop();
      }
      paras.forEach(function (t) { if (t.trim()) { bubble.appendChild(linkify(t)); } });
      if (entry.failed) { bubble.appendChild(el("span", "aw-failed", " " + S.notSentMark)); }
      item.appendChild(bubble);
      if (custom && Array.isArray(custom.sources) && custom.sources.length) { item.appendChild(renderSources(custom)); }
      if (Array.isArray(entry.buttons) && entry.buttons.length) {
        var group = el("div", "aw-buttons");
        group.setAttribute("aria-label", S.choices);
        group.setAttribute("role", "group");
        entry.buttons.forEach(function (b) {
          var btn = button("aw-choice", b.title);
          btn.disabled = !!entry.used;
          btn.addEventListener("click", function () {
            if (send(String(b.payload || b.title), String(b.title))) {
              entry.used = true;
              save();
              Array.prototype.forEach.call(group.querySelectorAll("button"), function (x) { x.disabled = true; });
              input.focus();
            }
          });
          group.appendChild(btn);
        });
        item.appendChild(group);
      }
      if (index !== undefined) { item.setAttribute("data-index", String(index)); }
      return item;
    }

    function renderAll() {
      log.textContent = "";
      log.appendChild(render({ who: "bot", text: cfg.greeting }));
      history.forEach(function (e, i) { log.appendChild(render(e, i)); });
      scrollDown();
    }

    function save() {
      if (history.length > MAX_HISTORY) { history = history.slice(-MAX_HISTORY); }
      local.set("history", JSON.stringify(history));
    }

    function add(entry) {
      history.push(entry);
      save();
      log.appendChild(render(entry, history.length - 1));
      scrollDown();
    }

    /* ---------- status and faults ---------- */
    var statusTimer = null;
    function setStatus(text) {
      clearTimeout(statusTimer);
      status.textContent = text || "";
      if (text) { statusTimer = setTimeout(function () { status.textContent = ""; }, 4000); }
    }
    // A visible (and announced) problem; while a message waits to be sent, say where it is
    // and offer to retry.
    function showError(text) {
      alertText.textContent = failedText ? text + " " + S.kept : text;
      retry.hidden = !failedText;
      alertBox.classList.add("aw-on");
    }
    function clearError() {
      alertText.textContent = "";
      retry.hidden = true;
      alertBox.classList.remove("aw-on");
    }

    function failed(text, message) {
      // The typed text comes back into the input unless the visitor already typed something else.
      for (var i = history.length - 1; i >= 0; i--) {
        if (history[i].who === "user" && !history[i].failed) { history[i].failed = true; break; }
      }
      save();
      renderAll();
      failedText = text;
      if (!input.value.trim()) { input.value = text; tab.set("draft", text); }
      showError(message);
    }

    /* ---------- transport ---------- */
    function connect() {
      if (socket) { return; }
      setStatus(S.connecting);
      // WebSocket only: Rasa's CORS layer and Engine.IO both add an Access-Control-Allow-Origin
      // header to HTTP long-polling answers, which browsers refuse; the WebSocket handshake has
      // no CORS step (the server still checks its Origin against BOT_ALLOWED_ORIGINS).
      socket = io(cfg.server, { path: cfg.path, transports: ["websocket"], reconnectionDelayMax: 5000, timeout: 10000 });
      socket.on("connect", function () {
        socket.emit("session_request", { session_id: sessionId });
      });
      socket.on("session_confirm", function (id) {
        if (typeof id === "string" && id) { sessionId = id; local.set("session", id); }
        ready = true;
        if (wasConnected || alertBox.classList.contains("aw-on")) {
          setStatus(S.restored);
          if (failedText) { showError(S.restored + " " + S.notSent); } else { clearError(); }
        } else {
          setStatus("");
        }
        wasConnected = true;
      });
      socket.on("bot_uttered", function (msg) {
        if (!msg || typeof msg !== "object") { return; }
        var buttons = (msg.quick_replies || msg.buttons || []).filter(function (b) { return b && b.title; })
          .map(function (b) { return { title: String(b.title), payload: String(b.payload || b.title) }; });
        var custom = msg.custom && typeof msg.custom === "object" ? msg.custom : null;
        if (!msg.text && !buttons.length && !custom) { return; }
        add({ who: "bot", text: typeof msg.text === "string" ? msg.text : "", custom: custom, buttons: buttons });
      });
      socket.on("disconnect", function () {
        ready = false;
        showError(S.dropped);
      });
      socket.on("connect_error", function () {
        ready = false;
        showError(wasConnected ? S.dropped : S.unreachable);
      });
    }

    function typingOn(on) { typing.hidden = !on; if (on) { scrollDown(); } }

    function send(text, shown) {
      text = String(text || "").trim();
      if (!text) { return false; }
      if (!ready) {
        failedText = text;
        showError(S.notSent + (socket && !socket.connected ? " " + S.dropped : ""));
        return false;
      }
      clearError();
      failedText = null;
      add({ who: "user", text: shown || text });
      inFlight++;
      typingOn(true);
      var done = false;
      socket.timeout(cfg.replyTimeout).emit("user_uttered", { message: text, session_id: sessionId }, function (err, res) {
        if (done) { return; }
        done = true;
        inFlight = Math.max(0, inFlight - 1);
        if (!inFlight) { typingOn(false); }
        if (err || !res || res.ok !== true) { failed(text, err && ready ? S.noReply : S.notSent); }
      });
      return true;
    }

    /* ---------- events ---------- */
    function open(restoring) {
      panel.hidden = false;
      launcher.setAttribute("aria-expanded", "true");
      root.classList.add("aw-open");
      tab.set("open", "1");
      connect();
      scrollDown();
      // Reopened by a page reload: leave the focus where the page puts it.
      if (restoring !== true) { (privacy.hidden ? input : privacyOk).focus(); }
    }
    function shut() {
      panel.hidden = true;
      launcher.setAttribute("aria-expanded", "false");
      root.classList.remove("aw-open");
      tab.del("open");
      launcher.focus();
    }

    launcher.addEventListener("click", function () { if (panel.hidden) { open(false); } else { shut(); } });
    close.addEventListener("click", shut);
    panel.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape") { ev.preventDefault(); shut(); }
    });
    privacyOk.addEventListener("click", function () {
      local.set("privacy", "1");
      privacy.hidden = true;
      input.focus();
    });
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      if (send(input.value)) { input.value = ""; tab.del("draft"); }
      input.focus();
    });
    input.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit")); }
    });
    input.addEventListener("input", function () { tab.set("draft", input.value); });
    retry.addEventListener("click", function () {
      var text = input.value.trim() || failedText;
      if (send(text)) { if (input.value.trim() === text) { input.value = ""; tab.del("draft"); } }
      input.focus();
    });
    reset.addEventListener("click", function () {
      history = [];
      save();
      sessionId = null;
      local.del("session");
      clearError();
      failedText = null;
      renderAll();
      setStatus(S.newConversationDone);
      if (socket && socket.connected) { ready = false; socket.emit("session_request", { session_id: null }); }
      input.focus();
    });

    renderAll();
    window.AdmissionsChat = { open: function () { open(false); }, close: shut };
    if (tab.get("open") === "1") { open(true); }
  }
})();
