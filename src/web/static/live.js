// Live updates: the server sends an event when anything changes; the page
// fetches itself again and swaps its main part. Without JavaScript the
// pages read the same, a reload away.
(function () {
  // The browser's timezone, for a calendar when `[timezones]` names none
  // for you: kept in a cookie; the calendar reloads once when it changes.
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    var kept = 'releasebot_tz=' + encodeURIComponent(zone);
    if (zone && document.cookie.split('; ').indexOf(kept) < 0) {
      document.cookie = kept + '; Path=/; Max-Age=31536000; SameSite=Lax';
      var shown = document.getElementById('zone');
      if (shown && shown.dataset.from === 'default' && shown.dataset.zone !== zone) {
        window.location.reload();
      }
    }
  } catch (e) { /* no Intl: the bot's timezone stays */ }
})();
(function () {
  if (!window.EventSource || !window.fetch) { return; }
  var main = document.getElementById('main');
  if (!main || document.body.dataset.live !== 'on') { return; }
  var pending = false;
  function refresh() {
    if (pending) { return; }
    pending = true;
    fetch(window.location.href, { credentials: 'same-origin', headers: { 'X-Live': '1' } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        pending = false;
        if (!html) { return; }
        var doc = new DOMParser().parseFromString(html, 'text/html');
        var fresh = doc.getElementById('main');
        if (fresh) { main.innerHTML = fresh.innerHTML; document.body.dataset.updated = String(Date.now()); }
      })
      .catch(function () { pending = false; });
  }
  // A wall screen's token rides along in the query; a session in its cookie.
  var token = new URLSearchParams(window.location.search).get('token');
  var source = new EventSource('/events' + (token ? '?token=' + encodeURIComponent(token) : ''));
  source.addEventListener('change', refresh);
})();
