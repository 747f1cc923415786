// frontline web chat: panes of chats, each a WebSocket to /ws. No framework, no CDN.
// The conversation (the person's own lines too) comes from the server on every connect, so a
// reload or another device shows it; on a phone one pane shows at a time, with tabs.
"use strict";

const MAX_PANES = 4;
const DEMO_START = ["demo-reporter", "demo-engineer-1", "demo-manager"];
let texts = {};
let demo = false;
let timeControl = false;
let photos = false;
let people = [];
const panes = [];

const $ = (sel, root = document) => root.querySelector(sel);
const t = (key, fallback) => texts[key] || fallback || key;
const lang = () => $("#lang").value;

function applyTexts() {
  document.querySelectorAll("[data-t]").forEach((el) => {
    el.textContent = t(el.dataset.t, el.textContent);
  });
  document.querySelectorAll("[data-t-title]").forEach((el) => {
    el.title = t(el.dataset.tTitle, el.title);
    el.setAttribute("aria-label", el.title);
  });
  document.querySelectorAll("textarea").forEach((el) => { el.placeholder = t("placeholder", ""); });
  document.title = t("title", "frontline");
}

async function loadTexts(language) {
  const res = await fetch(`/webchat/texts?lang=${encodeURIComponent(language)}`);
  const body = await res.json();
  texts = body.texts || {};
  demo = !!body.demo;
  timeControl = !!body.time_control;
  photos = !!body.photos;
  applyTexts();
}

function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16)).join("");
}

function personLabel(id) {
  const p = people.find((x) => x.user_id === id);
  return p ? `${p.name} · ${t("role_" + p.role, p.role)}` : id;
}

// --- Tabs (phone width): one pane shows, the others wait behind a tab ------------------
function showPane(pane) {
  for (const p of panes) {
    const on = p === pane;
    p.node.classList.toggle("active", on);
    if (p.tab) {
      p.tab.setAttribute("aria-selected", on ? "true" : "false");
      if (on) p.tab.classList.remove("unread");
    }
  }
  // what arrived while the pane was hidden could not scroll it: show the newest now
  pane.list.scrollTop = pane.list.scrollHeight;
}

function addTab(pane) {
  const tab = document.createElement("button");
  tab.type = "button";
  tab.className = "tab";
  tab.setAttribute("role", "tab");
  tab.dataset.testid = "tab";
  tab.addEventListener("click", () => showPane(pane));
  $("#tabs").appendChild(tab);
  pane.tab = tab;
  pane.labelTab();
}

class Pane {
  constructor(userId) {
    this.node = $("#pane-template").content.firstElementChild.cloneNode(true);
    this.node.__pane = this;
    this.list = $(".messages", this.node);
    this.input = $("textarea", this.node);
    this.conn = $(".conn", this.node);
    this.select = $(".person", this.node);
    this.file = $("input[type=file]", this.node);
    this.userId = userId;
    this.retry = 500;
    this.byKey = new Map();
    this.mine = new Map();  // the person's own lines by key: one line per key
    this.tab = null;
    $("#panes").appendChild(this.node);
    panes.push(this);
    $(".photo", this.node).hidden = !photos;
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
    this.labelTab();
  }

  labelTab() {
    if (!this.tab) return;
    const p = people.find((x) => x.user_id === this.userId);
    this.tab.textContent = p ? p.name : this.userId;
    this.tab.title = personLabel(this.userId);
    const role = document.createElement("small");
    role.textContent = p ? t("role_" + p.role, p.role) : "";
    this.tab.appendChild(role);
    const dot = document.createElement("span");
    dot.className = "dot";
    dot.title = t("page.unread", "");
    this.tab.appendChild(dot);
  }

  bind() {
    $(".composer", this.node).addEventListener("submit", (e) => { e.preventDefault(); this.sendText(); });
    this.input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); this.sendText(); }
    });
    this.select.addEventListener("change", () => {
      this.userId = this.select.value;
      this.labelTab();
      this.reconnect();
    });
    this.file.addEventListener("change", () => {
      const chosen = this.file.files && this.file.files[0];
      this.file.value = "";
      if (chosen) this.sendPhoto(chosen);
    });
  }

  who() { return demo ? `user=${encodeURIComponent(this.userId)}` : ""; }

  connect() {
    const proto = location.protocol === "https:" ? "wss" : "ws";
    const who = this.who();
    this.ws = new WebSocket(`${proto}://${location.host}/ws${who ? "?" + who : ""}`);
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
    this.clear();
    this.connect();
  }

  clear() {
    this.list.innerHTML = "";
    this.byKey.clear();
    this.mine.clear();
  }

  onFrame(f) {
    if (f.type === "history") {
      this.clear();
      // The person's own lines come with the bot message they came before.
      const before = new Map();
      const after = [];
      for (const m of f.mine || []) {
        if (m.before) {
          if (!before.has(m.before)) before.set(m.before, []);
          before.get(m.before).push(m);
        } else {
          after.push(m);
        }
      }
      for (const m of f.messages) {
        for (const x of before.get(m.key) || []) this.addMine(x.text, x.key);
        this.addBot(m);
        if (m.live === false) this.byKey.get(m.key).dataset.stale = "1";
      }
      for (const x of after) this.addMine(x.text, x.key);
    } else if (f.type === "message") {
      this.addBot(f);
      this.unread();
    } else if (f.type === "edit") {
      const node = this.byKey.get(f.key);
      if (node) {
        delete node.dataset.stale;
        delete node.dataset.pressed;
        this.render(node, { ...f, files: JSON.parse(node.dataset.files || "[]"), group: node.dataset.group });
        this.unread();
      }
    } else if (f.type === "mine") {
      this.addMine(f.text, f.key);
    } else if (f.type === "error") {
      this.addLine(f.text || t("error"), "error");
    }
    this.markLive();
    this.list.scrollTop = this.list.scrollHeight;
  }

  unread() {
    if (this.tab && !this.node.classList.contains("active")) this.tab.classList.add("unread");
  }

  // Only the latest message with buttons of one ticket or dialogue keeps them usable; older
  // ones would only get the desk's "no longer valid" answer.
  markLive() {
    const later = new Set();
    const nodes = Array.from(this.list.querySelectorAll("[data-group]")).reverse();
    for (const li of nodes) {
      const group = li.dataset.group;
      const stale = later.has(group) || li.dataset.stale === "1";
      const off = stale || li.dataset.pressed === "1";
      li.querySelectorAll(".buttons button").forEach((b) => { b.disabled = off; });
      li.classList.toggle("stale", stale);
      const box = li.querySelector(".buttons");
      if (box) box.title = stale ? t("page.stale", "") : "";
      later.add(group);
    }
  }

  addLine(text, cls) {
    const li = document.createElement("li");
    li.className = `msg ${cls}`;
    li.textContent = text;
    this.list.appendChild(li);
    this.list.scrollTop = this.list.scrollHeight;
    return li;
  }

  addMine(text, key) {
    if (key && this.mine.has(key)) return this.mine.get(key);
    const li = this.addLine(text, "me");
    li.dataset.testid = "my-message";
    if (key) this.mine.set(key, li);
    return li;
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
    li.dataset.files = JSON.stringify(m.files || []);
    if (m.files && m.files.length) {
      const files = document.createElement("div");
      files.className = "files";
      files.append("📎 ");
      m.files.forEach((f, i) => {
        if (i) files.append(", ");
        if (!f.url) { files.append(f.name); return; }
        const a = document.createElement("a");  // only the chat it was sent to may open it
        const who = this.who();
        a.href = f.url + (who ? "?" + who : "");
        a.target = "_blank";
        a.rel = "noopener";
        a.textContent = f.name;
        files.appendChild(a);
      });
      li.appendChild(files);
    }
    if (!m.buttons || !m.buttons.length) { delete li.dataset.group; return; }
    li.dataset.group = m.group || `key:${m.key}`;
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
          li.dataset.pressed = "1";
          box.querySelectorAll("button").forEach((x) => { x.disabled = true; });
          this.addMine(`「${b.label}」`);
          this.send({ type: "button", data: b.data, label: b.label, id: uuid() });
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
    if (!this.send({ type: "text", text, id: uuid() })) return;
    this.addMine(text);
    this.input.value = "";
  }

  send(frame) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(frame));
      return true;
    }
    this.addLine(t("disconnected", "offline"), "error");
    return false;
  }

  setLanguage(language) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify({ type: "lang", lang: language, id: uuid() }));
    }
  }

  // The photo's line comes from the server (as on the person's other tabs); until then a
  // note says it is on its way.
  async sendPhoto(file) {
    const note = this.addLine(t("page.photo_sending", "…"), "me sending");
    const form = new FormData();
    let body = {};
    form.append("id", uuid());
    form.append("photo", file, file.name || "photo");
    const who = this.who();
    try {
      const res = await fetch(`/webchat/photo?lang=${encodeURIComponent(lang())}${who ? "&" + who : ""}`,
                              { method: "POST", body: form, credentials: "same-origin" });
      body = await res.json().catch(() => ({}));
      note.remove();
      if (!res.ok) {
        this.addLine(body.error || t("page.photo_failed"), "error");
        return;
      }
    } catch (e) {
      note.remove();
      this.addLine(t("page.photo_failed"), "error");
      return;
    }
    const li = this.addMine(body.text, body.key);
    if (file.size <= 4 * 1024 * 1024) {  // a look at what was sent; the desk has the file
      const reader = new FileReader();
      reader.onload = () => {
        const img = document.createElement("img");
        img.className = "thumb";
        img.alt = "";
        img.src = reader.result;
        li.appendChild(img);
      };
      reader.readAsDataURL(file);
    }
  }
}

// --- Demo time control (the server offers it only in demo mode) -----------------------
async function showDemoTime(res) {
  const body = await res.json();
  $("#demo-now").textContent = body.now || "";
}

// Built only when the server offers it: outside demo mode the page has no such control.
async function setupTimeControl() {
  const box = $("#demo-time");
  if (!timeControl) return;
  const label = document.createElement("span");
  label.className = "label";
  label.dataset.t = "page.demo_time";
  const now = document.createElement("span");
  now.id = "demo-now";
  now.dataset.testid = "demo-now";
  const skip = document.createElement("button");
  skip.id = "skip";
  skip.type = "button";
  skip.dataset.testid = "skip";
  skip.dataset.t = "page.skip";
  skip.dataset.tTitle = "page.skip_title";
  box.append(label, now, skip);
  applyTexts();
  box.hidden = false;
  await showDemoTime(await fetch(`/webchat/demo/time?lang=${encodeURIComponent(lang())}`));
  $("#skip").addEventListener("click", async (e) => {
    e.target.disabled = true;
    try {
      await showDemoTime(await fetch(`/webchat/demo/skip?lang=${encodeURIComponent(lang())}`,
                                     { method: "POST", credentials: "same-origin" }));
    } finally {
      e.target.disabled = false;
    }
  });
}

async function main() {
  const saved = localStorage.getItem("frontline:lang") || "zh";
  $("#lang").value = saved;
  await loadTexts(saved);
  $("#lang").addEventListener("change", async (e) => {
    const chosen = e.target.value;
    localStorage.setItem("frontline:lang", chosen);
    await loadTexts(chosen);
    for (const pane of panes) { pane.fillSelect(); pane.setLanguage(chosen); }
    if (timeControl) await showDemoTime(await fetch(`/webchat/demo/time?lang=${encodeURIComponent(chosen)}`));
  });
  await setupTimeControl();
  if (!demo) { showPane(new Pane("")); return; }
  document.body.classList.add("demo");
  people = await (await fetch("/webchat/people")).json();
  const ids = people.map((p) => p.user_id);
  const start = DEMO_START.filter((id) => ids.includes(id));
  for (const id of (start.length ? start : ids.slice(0, 3))) addTab(new Pane(id));
  showPane(panes[0]);
  const add = $("#add-pane");
  add.hidden = false;
  add.addEventListener("click", () => {
    if (panes.length >= MAX_PANES || !ids.length) return;
    const pane = new Pane(ids[panes.length % ids.length]);
    addTab(pane);
  });
}

main();
