/// The HTML report's inline style and script (no external assets: the page works offline, from a file or a CI artifact).
enum HTMLReportAssets {
    static let css = """
    body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
    h1 { margin-bottom: 0; } .meta { color: #666; margin-top: .2em; }
    #summary { display: flex; gap: 1em; margin: 1em 0; }
    .card { border: 1px solid #ccc; border-radius: 6px; padding: .6em 1em; }
    .card .n { font-size: 1.8em; font-weight: 600; display: block; }
    .card.denied .n { color: #b00020; } .card.admitted .n { color: #1b7f3b; }
    table { border-collapse: collapse; margin-bottom: 1.5em; }
    th, td { border: 1px solid #ddd; padding: .3em .6em; text-align: left; vertical-align: top; }
    th { background: #f3f3f3; cursor: pointer; user-select: none; }
    th[aria-sort="ascending"]::after { content: " ▲"; } th[aria-sort="descending"]::after { content: " ▼"; }
    td { white-space: pre-line; overflow-wrap: anywhere; }
    table { max-width: 100%; }
    tr.result-fail td, tr.result-error td { background: #fdecee; } tr.result-warn td { background: #fff7e0; }
    details.denied { margin-bottom: .8em; } pre { background: #f7f7f7; padding: .6em; overflow-x: auto; }
    """

    /// Click a header to sort its table (numbers as numbers; results by severity); findings start worst first.
    static let script = """
    (function () {
      const severity = { fail: 0, error: 1, warn: 2, pass: 3, skip: 4 };
      function key(cell) {
        const text = cell.textContent;
        if (Object.hasOwn(severity, text)) return severity[text];
        const n = Number(text);
        return text !== "" && !isNaN(n) ? n : text.toLowerCase();
      }
      function sort(table, column, descending) {
        const body = table.tBodies[0];
        const rows = Array.from(body.rows);
        rows.sort((a, b) => {
          const x = key(a.cells[column]), y = key(b.cells[column]);
          return (x < y ? -1 : x > y ? 1 : 0) * (descending ? -1 : 1);
        });
        rows.forEach(r => body.appendChild(r));
        Array.from(table.tHead.rows[0].cells).forEach((th, i) =>
          i === column ? th.setAttribute("aria-sort", descending ? "descending" : "ascending") : th.removeAttribute("aria-sort"));
        table.dataset.sortedBy = table.tHead.rows[0].cells[column].textContent;
      }
      document.querySelectorAll("table.sortable").forEach(table => {
        Array.from(table.tHead.rows[0].cells).forEach((th, i) =>
          th.addEventListener("click", () => sort(table, i, th.getAttribute("aria-sort") === "ascending")));
      });
      const findings = document.getElementById("findings");
      const result = Array.from(findings.tHead.rows[0].cells).findIndex(th => th.textContent === "result");
      sort(findings, result, false);
    })();
    """
}
