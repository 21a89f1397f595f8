"""Report details (issue 23): a table of contents, legends beside the data, numbers right and text left."""

from __future__ import annotations

import re
from pathlib import Path

from dalda.report.figures import legend_beside, plt
from dalda.report.page import sortable_table, with_contents
from dalda.report.tables import Column, Table

REPORT = Path(__file__).resolve().parents[1] / "src" / "dalda" / "report"


def test_contents_link_every_section_heading_to_its_anchor():
    contents, body = with_contents("<h2>Tables</h2><p>x</p><h2 class='failed'>Failed cells (1)</h2>")
    assert contents.count("<li>") == 2 and "href='#section-1'>Tables" in contents
    assert "<h2 id='section-1'>Tables</h2>" in body and "<h2 id='section-2' class='failed'>" in body
    assert with_contents("<p>no sections</p>") == ("", "<p>no sections</p>")


def test_a_legend_sits_beside_the_axes_never_on_the_data():
    figure, ax = plt.subplots()
    ax.plot([0, 1], [0, 1], label="a curve")
    legend_beside(ax)
    figure.canvas.draw()
    legend = ax.get_legend().get_window_extent()
    assert legend.x0 >= ax.get_window_extent().x1
    plt.close(figure)


def test_every_report_figure_places_its_legend_through_legend_beside():
    for module in REPORT.glob("*.py"):
        calls = re.findall(r"\.legend\(", module.read_text())
        allowed = 1 if module.name == "figures.py" else 0  # the call inside legend_beside itself
        assert len(calls) == allowed, f"{module.name} draws a legend that may cover the data"


def test_number_columns_are_marked_for_right_alignment_and_text_columns_are_not():
    table = Table("t", "T", [Column("Method"), Column("Acc")], [["ours", 0.5], ["real only", None]])
    cells = re.findall(r"<t[hd](?![a-z])([^>]*)>", table.html())
    assert cells == ["", " class='num'", "", " class='num'", "", " class='num'"]
    sortable = sortable_table(["class", "gain"], [["cat", 0.1], ["dog", -0.2]])
    assert "<th title='click to sort' class='num'>gain" in sortable and "<th title='click to sort'>class" in sortable
