/* Chat widget of the admissions assistant: one <script> tag, talks to Rasa over socket.io.

   Embed:  <script src="https://…/widget/widget.js" defer data-server-url="https://bot.example.fr"
                   data-bot-name="…" data-greeting="…" data-privacy-url="https://…/confidentialite"
                   data-primary-color="#1a4e8a"></script>
   The stylesheet, the French strings (strings.fr.js), the modules (dom.js, panel.js,
   render.js, feedback.js, contact.js) and the socket.io client (vendor/) are loaded from the same folder
   as this file: nothing comes from a third-party host.

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
  // Executed in this order (async = false), downloaded in parallel.
  var MODULES = ["strings.fr.js", "dom.js", "panel.js", "render.js", "feedback.js", "contact.js", "vendor/socket.io.min.js"];
  // The panel fills the screen (widget.css) and is then a modal dialog.
  var FULL_SCREEN = "(max-width: 30em), (max-height: 32em)";

  var css = document.createElement("link");
  css.rel = "stylesheet";
  css.href = base + "widget.css";
  document.head.appendChild(css);

  // Keep the host page's own `io` global, if any: ours is only captured by this closure.
  var hostIo = window.io, waiting = MODULES.length, broken = false;
  MODULES.forEach(function (name) {
    var tag = document.createElement("script");
    tag.src = base + name;
    tag.async = false;
    tag.onload = function () { if (--waiting === 0 && !broken) { boot(); } };
    tag.onerror = function () { broken = true; console.error("admissions-chat: cannot load " + tag.src); };
    document.head.appendChild(tag);
  });

  function boot() {
    var io = window.io;
    if (hostIo === undefined) { delete window.io; } else { window.io = hostIo; }
    start(io, window.AdmissionsChatStrings || {}, window.AdmissionsChatDom);
  }

  function start(io, S, D) {
    var local = D.store("localStorage", KEY), tab = D.store("sessionStorage", KEY);
    var cfg = {
      server: (data.serverUrl || window.location.origin).replace(/\/+$/, ""),
      path: data.socketPath || "/socket.io/",
      name: data.botName || data.title || S.title,
      greeting: data.greeting || S.greeting,
      days: data.retentionDays || "90",
      privacyUrl: data.privacyUrl || "#confidentialite",
      replyTimeout: parseInt(data.replyTimeoutMs || "30000", 10),
      maxChars: parseInt(data.maxChars || "1000", 10),
      primaryColor: data.primaryColor, primaryTextColor: data.primaryTextColor, accentColor: data.accentColor
    };
    var history = [];
    try { history = JSON.parse(local.get("history") || "[]") || []; } catch (e) { history = []; }
    history.forEach(function (e) { if (e && e.who === "bot" && !e.id) { e.id = D.uid(); } });  // older histories
    var sessionId = local.get("session");
    var socket = null, ready = false, down = false, lost = false, wasConnected = false, resetting = false;
    var inFlight = 0, failedText = null, queue = [], turnFirst = null, suggestionsAsked = false;
    var mq = window.matchMedia ? window.matchMedia(FULL_SCREEN) : null;
    function small() { return !!(mq && mq.matches); }

    /* ---------- the object the modules share ---------- */
    var app = {
      S: S, D: D, cfg: cfg, send: send, save: save, setStatus: setStatus,
      history: function () { return history; },
      sessionId: function () { return sessionId; },
      lastQuestion: lastQuestion, getJson: getJson, postJson: postJson,
      focusAfterChoice: function () { if (small()) { log.focus({ preventScroll: true }); } else { input.focus(); } },
      showContact: function (on) {
        panel.classList.toggle("aw-contact-on", on);
        if (!on) { scrollDown(); }
      },
      focusAfterContact: function (back) { (back || (small() ? title : input)).focus(); },
      addNotice: function (text) {
        turnFirst = null;
        var item = add({ who: "bot", notice: true, text: text });
        item.tabIndex = -1;
        item.focus();
      }
    };

    /* ---------- DOM (panel.js) ---------- */
    var ui = window.AdmissionsChatPanel(app, tab.get("draft") || "");
    var root = ui.root, launcher = ui.launcher, panel = ui.panel, title = ui.title, privacy = ui.privacy;
    var privacyOk = ui.privacyOk, privacyLink = ui.privacyLink, log = ui.log, typing = ui.typing;
    var status = ui.status, alertBox = ui.alertBox, alertText = ui.alertText, retry = ui.retry;
    var form = ui.form, input = ui.input, contactBtn = ui.contactBtn, reset = ui.reset;
    privacy.hidden = local.get("privacy") === "1";
    app.log = log;

    app.render = window.AdmissionsChatRender(app);
    app.feedback = window.AdmissionsChatFeedback(app);
    app.contact = window.AdmissionsChatContact(app);

    panel.insertBefore(app.contact.node, typing);
    document.body.appendChild(root);

    /* ---------- messages ---------- */
    function scrollDown() { log.scrollTop = log.scrollHeight; }
    // The beginning of a reply stays in view, however long the reply (the browser clamps).
    function showTop(item) { log.scrollTop += item.getBoundingClientRect().top - log.getBoundingClientRect().top - 8; }

    function lastQuestion() {
      for (var i = history.length - 1; i >= 0; i--) {
        if (history[i].who === "user" && !history[i].failed) { return String(history[i].text || ""); }
      }
      return "";
    }

    function renderAll() {
      log.textContent = "";
      turnFirst = null;
      log.appendChild(app.render.message({ who: "bot", text: cfg.greeting }));
      history.forEach(function (e, i) { log.appendChild(app.render.message(e, i)); });
      app.feedback.showSuggestions();
      scrollDown();
    }

    function save() {
      if (history.length > MAX_HISTORY) { history = history.slice(-MAX_HISTORY); }
      local.set("history", JSON.stringify(history));
    }

    function add(entry) {
      entry.time = entry.time || Date.now();
      history.push(entry);
      save();
      var item = app.render.message(entry, history.length - 1);
      log.appendChild(item);
      if (entry.who === "user") {
        turnFirst = null;
        scrollDown();
      } else {
        if (!turnFirst || !log.contains(turnFirst)) { turnFirst = item; }
        showTop(turnFirst);
      }
      return item;
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
    function showError(text, keptText) {
      alertText.textContent = failedText ? text + " " + (keptText || S.kept) : text;
      retry.hidden = !failedText;
      alertBox.classList.add("aw-on");
    }
    function clearError() {
      alertText.textContent = "";
      retry.hidden = true;
      alertBox.classList.remove("aw-on");
    }

    // The last `count` messages sent were not handled: mark them, put the text back.
    function failed(text, message, count) {
      for (var i = history.length - 1, n = count || 1; i >= 0 && n > 0; i--) {
        if (history[i].who === "user" && !history[i].failed) { history[i].failed = true; n--; }
      }
      save();
      renderAll();
      failedText = text;
      // The typed text comes back into the input unless the visitor already typed something else.
      if (!input.value.trim()) { input.value = text; tab.set("draft", text); }
      showError(message);
    }

    /* ---------- transport ---------- */
    function getJson(path) {
      return request(path, { method: "GET" }).then(function (res) {
        if (res.status !== 200) { throw new Error("HTTP " + res.status); }
        return res.data;
      });
    }
    function postJson(path, body) {
      return request(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    }
    // fetch to the bot server -> {status, data (parsed JSON or null)}; rejects on network errors.
    function request(path, init) {
      var ctl = window.AbortController ? new AbortController() : null;
      var timer = ctl ? setTimeout(function () { ctl.abort(); }, 15000) : null;
      init.credentials = "omit";
      init.headers = init.headers || {};
      init.headers.Accept = "application/json";
      if (ctl) { init.signal = ctl.signal; }
      return fetch(cfg.server + path, init).then(function (r) {
        return r.json().then(function (d) { return d; }, function () { return null; })
          .then(function (d) { clearTimeout(timer); return { status: r.status, data: d }; });
      }, function (err) { clearTimeout(timer); throw err; });
    }

    function connect() {
      if (socket) { return; }
      setStatus(S.connecting);
      // WebSocket only: Rasa's CORS layer and Engine.IO both add an Access-Control-Allow-Origin
      // header to HTTP long-polling answers, which browsers refuse; the WebSocket handshake has
      // no CORS step (the server still checks its Origin against BOT_ALLOWED_ORIGINS).
      socket = io(cfg.server, { path: cfg.path, transports: ["websocket"], reconnectionDelayMax: 5000, timeout: 10000 });
      socket.on("connect", function () {
        down = false;  // connected: messages wait for the session, they are not refused
        socket.emit("session_request", { session_id: sessionId });
      });
      socket.on("session_confirm", function (id) {
        if (typeof id === "string" && id) { sessionId = id; local.set("session", id); }
        ready = true;
        down = false;
        if (lost) {  // after a real loss only
          setStatus(S.restored);
          if (failedText) { showError(S.notSentAfterRestore, S.keptNow); } else { clearError(); }
        } else if (alertBox.classList.contains("aw-on") && !failedText) {
          clearError();  // reachable at last (never connected before)
          setStatus(S.connected);
        } else if (!resetting) {
          setStatus("");
        }
        lost = false;
        resetting = false;
        wasConnected = true;
        queue.splice(0).forEach(emit);  // typed while the session was being set up
      });
      socket.on("bot_uttered", function (msg) {
        if (!msg || typeof msg !== "object") { return; }
        var buttons = (msg.quick_replies || msg.buttons || []).filter(function (b) { return b && b.title; })
          .map(function (b) { return { title: String(b.title), payload: String(b.payload || b.title) }; });
        var custom = msg.custom && typeof msg.custom === "object" ? msg.custom : null;
        if (!msg.text && !buttons.length && !custom) { return; }
        add({ who: "bot", id: D.uid(), text: typeof msg.text === "string" ? msg.text : "", custom: custom,
              buttons: buttons, question: lastQuestion() });
      });
      function lostConnection(message) {
        ready = false;
        down = true;
        if (wasConnected) { lost = true; }
        if (queue.length) {
          var texts = queue.splice(0);
          if (!inFlight) { typingOn(false); }
          failedText = texts.join("\n");
          failed(failedText, message, texts.length);
        } else {
          showError(message);
        }
      }
      socket.on("disconnect", function () { lostConnection(S.dropped); });
      socket.on("connect_error", function () { lostConnection(wasConnected ? S.dropped : S.unreachable); });
    }

    function typingOn(on) { typing.hidden = !on; if (on) { scrollDown(); } }

    function emit(text) {
      inFlight++;
      typingOn(true);
      var done = false;
      socket.timeout(cfg.replyTimeout).emit("user_uttered", { message: text, session_id: sessionId }, function (err, res) {
        if (done) { return; }
        done = true;
        inFlight = Math.max(0, inFlight - 1);
        if (!inFlight && !queue.length) { typingOn(false); }
        if (err || !res || res.ok !== true) { failed(text, err && ready ? S.noReply : S.notSent); }
      });
    }

    // Sends now, or as soon as the session is confirmed; refused only while the connection is down.
    function send(text, shown) {
      text = String(text || "").trim();
      if (!text) { return false; }
      if (!ready && down) {
        failedText = text;
        showError(S.notSent + " " + S.dropped);
        return false;
      }
      clearError();
      failedText = null;
      app.feedback.hideSuggestions();
      add({ who: "user", text: shown || text });
      if (ready) { emit(text); } else { queue.push(text); typingOn(true); connect(); }
      return true;
    }

    /* ---------- panel: open, close, modal on full screen ---------- */
    function updateModal() {
      var modal = !panel.hidden && small();
      panel.setAttribute("aria-modal", modal ? "true" : "false");
      D.inertOthers(root, modal);
    }
    function focusOnOpen() {
      if (app.contact.isOpen()) { app.contact.open(); return; }
      // Small screens: no on-screen keyboard popping up over the conversation.
      (privacy.hidden ? (small() ? title : input) : privacyOk).focus();
    }
    function open(restoring) {
      panel.hidden = false;
      launcher.setAttribute("aria-expanded", "true");
      root.classList.add("aw-open");
      tab.set("open", "1");
      updateModal();
      connect();
      if (!history.length && !suggestionsAsked) { suggestionsAsked = true; app.feedback.loadSuggestions(); }
      scrollDown();
      // Reopened by a page reload: leave the focus where the page puts it (unless modal).
      if (restoring !== true) { focusOnOpen(); } else if (small()) { title.focus(); }
    }
    function shut() {
      panel.hidden = true;
      launcher.setAttribute("aria-expanded", "false");
      root.classList.remove("aw-open");
      tab.del("open");
      updateModal();
      launcher.focus();
    }

    /* ---------- events ---------- */
    launcher.addEventListener("click", function () { if (panel.hidden) { open(false); } else { shut(); } });
    ui.close.addEventListener("click", shut);
    panel.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape") { ev.preventDefault(); shut(); }
    });
    // Modal: Tab and Shift+Tab stay inside the panel (also from a focus left on the page).
    document.addEventListener("keydown", function (ev) {
      if (ev.key === "Tab" && !panel.hidden && small()) { D.trapTab(panel, ev); }
    });
    if (mq) {
      if (mq.addEventListener) { mq.addEventListener("change", updateModal); } else if (mq.addListener) { mq.addListener(updateModal); }
    }
    privacyOk.addEventListener("click", function () {
      local.set("privacy", "1");
      privacy.hidden = true;
      (small() ? title : input).focus();
    });
    if (privacyLink) {
      // A notice on the page itself, hidden by the full-screen panel: close the panel first.
      privacyLink.addEventListener("click", function () {
        if (small() && privacyLink.hash && privacyLink.pathname === window.location.pathname &&
            privacyLink.host === window.location.host) { shut(); }
      });
    }
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
    contactBtn.addEventListener("click", function () { app.contact.open(contactBtn); });
    reset.addEventListener("click", function () {
      history = [];
      save();
      sessionId = null;
      local.del("session");
      clearError();
      failedText = null;
      queue = [];
      if (!inFlight) { typingOn(false); }
      renderAll();
      setStatus(S.newConversationDone);
      app.feedback.loadSuggestions();
      if (socket && socket.connected) {
        ready = false;
        resetting = true;
        socket.emit("session_request", { session_id: null });
      }
      (small() ? title : input).focus();
    });

    renderAll();
    window.AdmissionsChat = { open: function () { open(false); }, close: shut };
    if (tab.get("open") === "1") { open(true); }
  }
})();
