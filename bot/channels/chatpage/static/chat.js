// Peiban chat page. Plain JS, no libraries; all text goes in with textContent (never HTML).
"use strict";

(function () {
  var API = "/chat/api/message";
  var SENDER_KEY = "peiban.sender";
  var LANG_KEY = "peiban.lang";
  var texts = null; // loaded from texts.json; the HTML already carries the Chinese defaults
  var memory = {}; // fallback when localStorage is blocked
  var busy = false;

  var log = document.getElementById("log");
  var form = document.getElementById("composer");
  var input = document.getElementById("input");
  var send = document.getElementById("send");
  var status = document.getElementById("status");
  var langButton = document.getElementById("lang");
  var reset = document.getElementById("reset");

  function store(key, value) {
    try {
      if (value === undefined) return window.localStorage.getItem(key);
      window.localStorage.setItem(key, value);
    } catch (e) {
      if (value === undefined) return memory[key] || null;
      memory[key] = value;
    }
    return value;
  }

  function newSender() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    var id = Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
    store(SENDER_KEY, id);
    return id;
  }

  function sender() {
    var id = store(SENDER_KEY);
    return /^[A-Za-z0-9_-]{16,64}$/.test(id || "") ? id : newSender();
  }

  function lang() {
    return store(LANG_KEY) === "en" ? "en" : "zh";
  }

  function t(key) {
    var table = texts && texts[lang()];
    return (table && table[key]) || (texts && texts.zh[key]) || "";
  }

  function applyLanguage() {
    if (!texts) return;
    document.documentElement.lang = t("htmlLang");
    document.title = t("title") + " Peiban";
    Array.prototype.forEach.call(document.querySelectorAll("[data-i18n]"), function (el) {
      el.textContent = t(el.getAttribute("data-i18n"));
    });
    Array.prototype.forEach.call(document.querySelectorAll("[data-i18n-placeholder]"),
      function (el) { el.placeholder = t(el.getAttribute("data-i18n-placeholder")); });
    Array.prototype.forEach.call(document.querySelectorAll("[data-i18n-aria]"),
      function (el) { el.setAttribute("aria-label", t(el.getAttribute("data-i18n-aria"))); });
    langButton.textContent = t("switchTo");
    langButton.lang = lang() === "zh" ? "en" : "zh-CN";
  }

  function bubble(who, text) {
    var row = document.createElement("div");
    row.className = "msg " + who;
    var name = document.createElement("span");
    name.className = "visually-hidden";
    name.textContent = (who === "user" ? t("you") || "你" : t("bot") || "陪伴") + ": ";
    var body = document.createElement("p");
    body.textContent = text;
    row.appendChild(name);
    row.appendChild(body);
    log.appendChild(row);
    log.scrollTop = log.scrollHeight;
    return row;
  }

  function buttons(list) {
    var group = document.createElement("div");
    group.className = "choices";
    group.setAttribute("role", "group");
    list.forEach(function (b) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "choice";
      button.textContent = b.title;
      button.addEventListener("click", function () {
        if (busy) return;
        Array.prototype.forEach.call(group.querySelectorAll("button"), function (x) {
          x.disabled = true;
        });
        button.classList.add("chosen");
        bubble("user", b.title);
        talk({ payload: b.payload });
      });
      group.appendChild(button);
    });
    log.appendChild(group);
    log.scrollTop = log.scrollHeight;
  }

  function setBusy(value) {
    busy = value;
    send.disabled = value;
    status.textContent = value ? t("thinking") || "陪伴正在想…" : "";
  }

  function showError(code) {
    status.textContent = t("err." + code) || t("err.other") || "出了点问题，请再试一次。";
  }

  function talk(body, typed) {
    body.sender = sender();
    body.language = lang();
    setBusy(true);
    return fetch(API, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      credentials: "same-origin"
    }).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (data) {
        setBusy(false);
        if (!resp.ok) {
          if (typed !== undefined && !input.value) input.value = typed; // never lose words
          showError(data.error || "other");
          return;
        }
        (data.messages || []).forEach(function (m) {
          if (m.text) bubble("bot", m.text);
          if (m.buttons && m.buttons.length) buttons(m.buttons);
        });
      });
    }).catch(function () {
      setBusy(false);
      if (typed !== undefined && !input.value) input.value = typed;
      showError("unavailable");
    });
  }

  function submit() {
    var text = input.value.trim();
    if (busy) return;
    if (!text) { showError("empty_message"); return; }
    if (text.length > 2000) { showError("message_too_long"); return; }
    input.value = "";
    bubble("user", text);
    talk({ message: text }, text).then(function () { input.focus(); });
  }

  function greet() {
    talk({ payload: '/greet{"language":"' + lang() + '"}' });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    submit();
  });

  input.addEventListener("keydown", function (event) {
    // Enter confirms a Chinese IME candidate while composing: only a real Enter sends.
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing &&
        event.keyCode !== 229) {
      event.preventDefault();
      submit();
    }
  });

  langButton.addEventListener("click", function () {
    store(LANG_KEY, lang() === "zh" ? "en" : "zh");
    applyLanguage();
    input.focus();
  });

  reset.addEventListener("click", function () {
    if (!window.confirm(t("resetConfirm") || "要结束这次聊天吗？")) return;
    newSender(); // the next child on this computer gets a new, separate conversation
    log.textContent = "";
    status.textContent = "";
    input.value = "";
    greet();
    input.focus();
  });

  fetch("/chat/static/texts.json", { credentials: "same-origin" })
    .then(function (resp) { return resp.json(); })
    .then(function (data) { texts = data; applyLanguage(); })
    .catch(function () { /* the Chinese defaults in the HTML stay */ })
    .then(function () { greet(); input.focus(); });
})();
