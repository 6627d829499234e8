// A sign-in link carries its one-time token in the #fragment (never sent to a server): move it
// into the form, clear it from the address bar and history, and let the person press Sign in.
(function () {
  var match = /^#link=(mlt_[A-Za-z0-9_-]{43})$/.exec(window.location.hash);
  if (!match) return;
  document.getElementById("token").value = match[1];
  history.replaceState(null, "", window.location.pathname + window.location.search);
  document.getElementById("link-ready").hidden = false;
  document.querySelector("#signin-form button[type=submit]").focus();
})();
