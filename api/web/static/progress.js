// While a run is queued or running, ask for its status every two seconds and reload the page
// when it has finished (the page without this script offers a "Refresh" link instead).
const panel = document.querySelector("[data-run-progress]");
if (panel) {
  const url = panel.getAttribute("data-run-progress");
  const status = panel.querySelector("[data-run-status]");
  const check = async () => {
    try {
      const answer = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (answer.ok) {
        const run = await answer.json();
        if (status && status.textContent !== run.text) status.textContent = run.text;
        if (run.finished) {
          window.location.reload();
          return;
        }
      }
    } catch (error) {
      // A failed request is tried again at the next tick.
    }
    window.setTimeout(check, 2000);
  };
  window.setTimeout(check, 1000);
}
