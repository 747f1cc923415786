// frontline web chat: panes of chats, each a WebSocket to /ws. No framework, no CDN.
"use strict";

const MAX_PANES = 4;
const DEMO_START = ["demo-reporter", "demo-engineer-1", "demo-manager"];
let texts = {};
let demo = false;
let people = [];

const $ = (sel, root = document) => root.querySelector(sel);
const t = (key, fallback) => texts[key] || fallback || key;

function applyTexts() {
  document.querySelectorAll("[data-t]").forEach((el) => {
    el.textContent = t(el.dataset.t, el.textContent);
  });
  document.querySelectorAll("textarea").forEach((el) => { el.placeholder = t("placeholder", ""); });
  document.title = t("title", "frontline");
}

async function loadTexts(lang) {
  const res = await fetch(`/webchat/texts?lang=${encodeURIComponent(lang)}`);
  const body = await res.json();
  texts = body.texts || {};
  demo = !!body.demo;
  applyTexts();
}

function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16)).join("");
}

class Pane {
  constructor(userId) {
    this.node = $("#pane-template").content.firstElementChild.cloneNode(true);
    this.list = $(".messages", this.node);
    this.input = $("textarea", this.node);
    this.conn = $(".conn", this.node);
    this.select = $(".person", this.node);
    this.userId = userId;
    this.retry = 500;
    this.byKey = new Map();
    $("#panes").appendChild(this.node);
    this.fillSelect();
    this.bind();
    applyTexts();
    this.connect();
  }

  fillSelect() {
    if (!demo) { this.select.hidden = true; return; }
    this.select.innerHTML = "";
    for (const p of people) {
      const opt = document.createElement("option");
      opt.value = p.user_id;
      opt.textContent = `${p.name} · ${t("role_" + p.role, p.role)}${p.site ? " · " + p.site : ""}`;
      this.select.appendChild(opt);
    }
    this.select.value = this.userId;
  }

  bind() {
    $(".composer", this.node).addEventListener("submit", (e) => { e.preventDefault(); this.sendText(); });
    this.input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); this.sendText(); }
    });
    this.select.addEventListener("change", () => { this.userId = this.select.value; this.reconnect(); });
  }

  storageKey() { return `frontline:sent:${this.userId || "me"}`; }

  connect() {
    const proto = location.protocol === "https:" ? "wss" : "ws";
    const who = demo ? `?user=${encodeURIComponent(this.userId)}` : "";
    this.ws = new WebSocket(`${proto}://${location.host}/ws${who}`);
    this.ws.onopen = () => { this.retry = 500; this.conn.classList.add("on"); this.conn.title = t("connected"); };
    this.ws.onmessage = (ev) => this.onFrame(JSON.parse(ev.data));
    this.ws.onclose = (ev) => {
      this.conn.classList.remove("on");
      this.conn.title = t("disconnected");
      if (ev.code === 4403 || this.closing) return;
      setTimeout(() => this.connect(), this.retry);
      this.retry = Math.min(this.retry * 2, 15000);
    };
  }

  reconnect() {
    this.closing = true;
    if (this.ws) this.ws.close();
    this.closing = false;
    this.list.innerHTML = "";
    this.byKey.clear();
    this.connect();
  }

  onFrame(f) {
    if (f.type === "history") {
      this.list.innerHTML = "";
      this.byKey.clear();
      const mine = JSON.parse(sessionStorage.getItem(this.storageKey()) || "[]");
      const bot = f.messages.map((m) => ({ ...m, who: "bot" }));
      // Own messages are kept in this browser only; show them before the replies they caused.
      for (const m of [...mine, ...bot].slice(-300)) {
        if (m.who === "me") this.addMine(m.text, false); else this.addBot(m);
      }
    } else if (f.type === "message") {
      this.addBot(f);
    } else if (f.type === "edit") {
      const node = this.byKey.get(f.key);
      if (node) this.render(node, f);
    } else if (f.type === "error") {
      this.addLine(f.text || t("error"), "error");
    }
    this.list.scrollTop = this.list.scrollHeight;
  }

  addLine(text, cls) {
    const li = document.createElement("li");
    li.className = `msg ${cls}`;
    li.textContent = text;
    this.list.appendChild(li);
    this.list.scrollTop = this.list.scrollHeight;
    return li;
  }

  addMine(text, remember = true) {
    const li = this.addLine(text, "me");
    li.dataset.testid = "my-message";
    if (remember) {
      const mine = JSON.parse(sessionStorage.getItem(this.storageKey()) || "[]");
      mine.push({ who: "me", text });
      sessionStorage.setItem(this.storageKey(), JSON.stringify(mine.slice(-100)));
    }
  }

  addBot(m) {
    if (this.byKey.has(m.key)) { this.render(this.byKey.get(m.key), m); return; }
    const li = document.createElement("li");
    li.className = "msg bot";
    li.dataset.testid = "bot-message";
    this.render(li, m);
    this.byKey.set(m.key, li);
    this.list.appendChild(li);
  }

  render(li, m) {
    li.textContent = m.text;
    if (m.files && m.files.length) {
      const files = document.createElement("div");
      files.className = "files";
      files.textContent = "📎 " + m.files.map((f) => f.name).join(", ");
      li.appendChild(files);
    }
    if (!m.buttons || !m.buttons.length) return;
    const box = document.createElement("div");
    box.className = "buttons";
    for (const row of m.buttons) {
      const r = document.createElement("div");
      r.className = "row";
      for (const b of row) {
        const btn = document.createElement("button");
        btn.type = "button";
        btn.textContent = b.label;
        btn.dataset.testid = "button";
        btn.addEventListener("click", () => {
          box.querySelectorAll("button").forEach((x) => { x.disabled = true; });
          this.addMine(`「${b.label}」`);
          this.send({ type: "button", data: b.data, id: uuid() });
        });
        r.appendChild(btn);
      }
      box.appendChild(r);
    }
    li.appendChild(box);
  }

  sendText() {
    const text = this.input.value;
    if (!text.trim()) return;
    this.addMine(text);
    this.input.value = "";
    this.send({ type: "text", text, id: uuid() });
  }

  send(frame) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(frame));
    } else {
      this.addLine(t("disconnected", "offline"), "error");
    }
  }
}

async function main() {
  const lang = localStorage.getItem("frontline:lang") || "zh";
  $("#lang").value = lang;
  await loadTexts(lang);
  $("#lang").addEventListener("change", async (e) => {
    localStorage.setItem("frontline:lang", e.target.value);
    await loadTexts(e.target.value);
    document.querySelectorAll(".pane").forEach((node) => node.__pane && node.__pane.fillSelect());
  });
  if (!demo) { new Pane(""); return; }
  people = await (await fetch("/webchat/people")).json();
  const ids = people.map((p) => p.user_id);
  const start = DEMO_START.filter((id) => ids.includes(id));
  for (const id of (start.length ? start : ids.slice(0, 3))) {
    const pane = new Pane(id);
    pane.node.__pane = pane;
  }
  const add = $("#add-pane");
  add.hidden = false;
  add.addEventListener("click", () => {
    if (document.querySelectorAll(".pane").length >= MAX_PANES || !ids.length) return;
    const pane = new Pane(ids[document.querySelectorAll(".pane").length % ids.length]);
    pane.node.__pane = pane;
  });
}

main();
