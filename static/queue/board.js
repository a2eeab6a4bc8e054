// Hall board: state from the board socket, announcements one at a time, reconnect with backoff.
(function () {
  "use strict";
  var body = document.getElementById("board");
  var office = body.dataset.office;
  var seq = null;
  var backoff = 500;
  var ws = null;
  var lastMessage = Date.now();
  var startedAt = Date.now();
  var calls = []; // [{ticket, window, status}] newest first
  var recent = [];
  var waiting = [];
  var announcements = [];
  var speaking = false;
  var audio = null;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function render() {
    var list = document.getElementById("board-calls");
    list.textContent = "";
    calls.slice(0, 6).forEach(function (c, i) {
      var li = el("li", "board-row" + (i === 0 ? " board-latest" : "") + (c.fresh ? " board-fresh" : ""));
      li.dataset.ticket = c.ticket;
      li.appendChild(el("span", "board-ticket", c.ticket));
      li.appendChild(el("span", "board-window", c.window || ""));
      list.appendChild(li);
    });
    var rec = document.getElementById("board-recent");
    rec.textContent = "";
    recent.slice(0, 8).forEach(function (r) {
      rec.appendChild(el("li", null, r.ticket + " → " + (r.window || "")));
    });
    var w = document.getElementById("board-waiting");
    w.textContent = "";
    waiting.forEach(function (c) {
      w.appendChild(el("li", null, c.category + ": " + c.count + " · ~" + c.estimated_wait_minutes + " " + body.dataset.minutes));
    });
  }

  function removeCall(ticket) {
    calls = calls.filter(function (c) { return c.ticket !== ticket; });
  }

  function called(m) {
    removeCall(m.ticket);
    calls.unshift({ ticket: m.ticket, window: m.window, status: "called", fresh: true });
    recent = recent.filter(function (r) { return r.ticket !== m.ticket; });
    recent.unshift({ ticket: m.ticket, window: m.window });
    recent = recent.slice(0, 8);
    setTimeout(function () {
      calls.forEach(function (c) { if (c.ticket === m.ticket) c.fresh = false; });
      render();
    }, 10000);
    announcements.push(m.spoken || (body.dataset.ticket + " " + m.ticket + ", " + body.dataset.window + " " + m.window));
    if (announcements.length > 20) announcements.shift();
    nextAnnouncement();
  }

  function apply(m) {
    if (m.type === "heartbeat") return;
    if (m.type === "snapshot") {
      seq = m.seq;
      calls = (m.calls || []).map(function (c) { return { ticket: c.ticket, window: c.window, status: c.status }; });
      recent = (m.recent || []).map(function (r) { return { ticket: r.ticket, window: r.window }; });
      waiting = m.waiting || [];
      render();
      return;
    }
    if (seq !== null && m.seq <= seq) return; // already shown
    if (seq !== null && m.seq > seq + 1) {
      // A gap: reconnect from the last event seen; the server replays the rest in order.
      if (ws) ws.close();
      return;
    }
    seq = m.seq;
    if (m.waiting) waiting = m.waiting;
    if (m.type === "called" || m.type === "recalled") called(m);
    else if (m.type === "started") calls.forEach(function (c) { if (c.ticket === m.ticket) c.status = "in_service"; });
    else if (m.type === "finished" || m.type === "no_show" || m.type === "transferred" || m.type === "returned") removeCall(m.ticket);
    render();
  }

  // Announcements: a chime, then the spoken text; the next one waits for the end of this one.
  function chime(done) {
    if (!audio) return done();
    try {
      var t = audio.currentTime;
      [660, 880].forEach(function (f, i) {
        var o = audio.createOscillator();
        var g = audio.createGain();
        o.frequency.value = f;
        g.gain.setValueAtTime(0.0001, t + i * 0.35);
        g.gain.exponentialRampToValueAtTime(0.4, t + i * 0.35 + 0.03);
        g.gain.exponentialRampToValueAtTime(0.0001, t + i * 0.35 + 0.33);
        o.connect(g).connect(audio.destination);
        o.start(t + i * 0.35);
        o.stop(t + i * 0.35 + 0.35);
      });
    } catch (e) { /* no sound on this screen */ }
    setTimeout(done, 800);
  }

  function speak(text, done) {
    if (!("speechSynthesis" in window)) return done();
    var u = new SpeechSynthesisUtterance(text);
    u.lang = "uk-UA";
    u.rate = 0.9;
    var finished = false;
    var end = function () { if (!finished) { finished = true; done(); } };
    u.onend = end;
    u.onerror = end;
    setTimeout(end, 10000); // a voice that never ends must not block the queue
    window.speechSynthesis.speak(u);
  }

  function nextAnnouncement() {
    if (speaking || announcements.length === 0) return;
    speaking = true;
    var text = announcements.shift();
    body.dataset.announcing = text;
    chime(function () {
      speak(text, function () {
        speaking = false;
        setTimeout(nextAnnouncement, 400);
      });
    });
  }

  // A hall screen whose browser allows sound without a gesture (Chromium's
  // --autoplay-policy=no-user-gesture-required, see the README) sounds from the start, also
  // after its daily reload; elsewhere the button turns sound on.
  try {
    var ctx = new (window.AudioContext || window.webkitAudioContext)();
    if (ctx.state === "running") {
      audio = ctx;
      document.getElementById("board-sound").hidden = true;
    } else {
      ctx.close();
    }
  } catch (e) { /* no sound on this screen */ }
  var soundByClick = false;

  document.getElementById("board-sound").addEventListener("click", function (e) {
    soundByClick = true;
    try { audio = new (window.AudioContext || window.webkitAudioContext)(); } catch (err) { audio = null; }
    e.target.hidden = true;
  });

  function connect() {
    var proto = location.protocol === "https:" ? "wss" : "ws";
    var url = proto + "://" + location.host + "/ws/boards/" + encodeURIComponent(office) + (seq !== null ? "?since=" + seq : "");
    ws = new WebSocket(url);
    ws.onopen = function () {
      backoff = 500;
      document.getElementById("board-offline").hidden = true;
    };
    ws.onmessage = function (e) {
      lastMessage = Date.now();
      try { apply(JSON.parse(e.data)); } catch (err) { /* ignore a bad frame */ }
    };
    ws.onclose = function () {
      ws = null;
      document.getElementById("board-offline").hidden = false;
      setTimeout(connect, backoff + Math.random() * backoff);
      backoff = Math.min(backoff * 2, 30000);
    };
  }

  // A socket silent past two heartbeats is dead: close it to reconnect.
  setInterval(function () {
    if (ws && Date.now() - lastMessage > 40000) ws.close();
    document.getElementById("board-clock").textContent = new Date().toLocaleTimeString("uk-UA", { hour: "2-digit", minute: "2-digit" });
    // Runs for days: reload once a day when quiet, to start from a clean page; not when sound
    // was turned on by a click, which a reload would silence until someone clicks again.
    if (Date.now() - startedAt > 24 * 3600 * 1000 && !speaking && announcements.length === 0 && !soundByClick) location.reload();
  }, 5000);

  connect();
})();
