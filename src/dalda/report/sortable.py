"""HTML tables a reader sorts by clicking a column header, with a few lines of inline JavaScript.

The page stays self-contained (no external script). Every cell carries its raw value in ``data-value``, so
numbers sort as numbers whatever their rounding on screen; empty cells (no value) always sort last. A second
click on the same header reverses the order; ``aria-sort`` says which order is shown.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

SORT_SCRIPT = """<script>
(function () {
  function key(cell) { return cell.getAttribute('data-value') || ''; }
  document.querySelectorAll('table.sortable').forEach(function (table) {
    table.querySelectorAll('thead th').forEach(function (th) {
      th.addEventListener('click', function () {
        var column = th.cellIndex, body = table.tBodies[0];
        var ascending = th.getAttribute('aria-sort') !== 'ascending';
        table.querySelectorAll('thead th').forEach(function (other) { other.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = key(a.cells[column]), y = key(b.cells[column]);
          if (x === '' || y === '') { return (x === '') - (y === ''); }
          var nx = Number(x), ny = Number(y);
          var order = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
          return ascending ? order : -order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  });
})();
</script>"""

STYLE = """<style>
table.sortable th { cursor: pointer; user-select: none; }
table.sortable th[aria-sort=ascending]::after { content: " ▲"; }
table.sortable th[aria-sort=descending]::after { content: " ▼"; }
tr.reference td { font-style: italic; color: #555; background: #fafafa; }
details.accuracy-detail { margin: 0.6em 0; }
details.accuracy-detail > summary { cursor: pointer; font-weight: 600; }
</style>"""

Value = str | int | float | None


def _text(value: Value, digits: int, signed: bool) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"
    return str(value)


def sortable_table(
    headers: Sequence[str], rows: Sequence[Sequence[Value]], digits: int = 4, signed: Sequence[int] = ()
) -> str:
    """A sortable ``<table>``; floats rounded to ``digits`` on screen (columns in ``signed`` with a sign)."""
    head = "".join(f"<th title='click to sort'>{html.escape(name)}</th>" for name in headers)
    body = []
    for row in rows:
        cells = []
        for index, value in enumerate(row):
            raw = "" if value is None else repr(value) if isinstance(value, float) else str(value)
            shown = _text(value, digits, index in signed)
            cells.append(f"<td data-value='{html.escape(raw, quote=True)}'>{html.escape(shown)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table class='sortable'><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
