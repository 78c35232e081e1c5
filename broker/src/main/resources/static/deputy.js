// Deputy's pages: progressive enhancement only (every page works without script). A submitted form's buttons are
// disabled so that a double click does not send a one-time form twice.
document.addEventListener('submit', function (event) {
  var form = event.target;
  window.setTimeout(function () {
    form.querySelectorAll('button[type=submit]').forEach(function (b) { b.disabled = true; });
  }, 0);
});
