// OneDoor live client, shared by every page: snapshot first, then events in seq order.
// A gap in seq (events lost while the connection blinked) is filled from
// GET /api/v1/halls/{hall}/events?after=SEQ; an event already applied is ignored, so
// nothing is missed and nothing is applied (or announced) twice. While disconnected a
// banner says so; socket.io reconnects by itself and the server sends a fresh snapshot.
(function (global) {
  "use strict";

  function connect(options) {
    var hall = options.hall, token = options.token;
    var lastSeq = null, catchingUp = false, pending = [];
    var banner = options.banner ? document.querySelector(options.banner) : null;

    function status(online) {
      if (banner) banner.hidden = online;
      if (options.onStatus) options.onStatus(online);
    }

    function apply(envelope) {
      if (lastSeq !== null && envelope.seq <= lastSeq) return;  // seen already
      lastSeq = envelope.seq;
      options.onEvent(envelope);
    }

    function catchUp() {
      if (catchingUp || lastSeq === null) return;
      catchingUp = true;
      fetch("/api/v1/halls/" + encodeURIComponent(hall) + "/events?limit=1000&after=" + lastSeq,
            {headers: {"Authorization": "Bearer " + token}})
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (events) {
          events.forEach(apply);
          catchingUp = false;
          var queued = pending.sort(function (a, b) { return a.seq - b.seq; });
          pending = [];
          queued.forEach(receive);
        })
        .catch(function () { catchingUp = false; });
    }

    function receive(envelope) {
      if (lastSeq === null || catchingUp) { pending.push(envelope); return; }
      if (envelope.seq > lastSeq + 1) { pending.push(envelope); catchUp(); return; }
      apply(envelope);
    }

    var socket = global.io("/hall", {auth: {token: token, hall: hall}, transports: ["websocket", "polling"]});
    socket.on("connect", function () { status(true); });
    socket.on("disconnect", function () { status(false); });
    socket.on("connect_error", function (err) {
      status(false);
      if (options.onRefused && err && err.message) options.onRefused(err.message);
    });
    socket.on("snapshot", function (snapshot) {
      lastSeq = snapshot.seq;
      options.onSnapshot(snapshot);
      var queued = pending.sort(function (a, b) { return a.seq - b.seq; });
      pending = [];
      queued.forEach(receive);
    });
    socket.onAny(function (name, envelope) {
      if (name !== "snapshot" && envelope && typeof envelope.seq === "number") receive(envelope);
    });
    return socket;
  }

  // A device token is given once as ?token=... and kept; the address bar is then cleaned.
  function deviceToken(storageKey) {
    var params = new URLSearchParams(global.location.search);
    var token = params.get("token");
    if (token) {
      global.localStorage.setItem(storageKey, token);
      params.delete("token");
      var rest = params.toString();
      global.history.replaceState(null, "", global.location.pathname + (rest ? "?" + rest : ""));
    }
    return global.localStorage.getItem(storageKey);
  }

  global.OneDoorLive = {connect: connect, deviceToken: deviceToken};
})(window);
