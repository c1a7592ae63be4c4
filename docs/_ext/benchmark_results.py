"""Sphinx directive that shows a benchmark's results file as a page section.

Every script in ``benchmarks/`` writes a Markdown file to ``benchmarks/results/``: a title, prose
with the exact command and the machine, and one or more pipe tables. ::

    .. benchmark-results:: ../benchmarks/results/particle_table1.md

renders the prose as text and each pipe table as a real table; when the script also wrote a CSV
of its raw runs beside it (same name), a download link to it follows. The title line is left
out: the page gives each section its own.
"""

from __future__ import annotations

import re
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective

# A Markdown code span (`x`) that is not part of an reST literal (``x``).
_CODE_SPAN = re.compile(r"(?<!`)`([^`]+)`(?!`)")


def split_blocks(text: str) -> list[tuple[str, list[str]]]:
    """Split Markdown into ("table", rows) and ("text", lines) blocks, without the title."""
    blocks: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        kind = "table" if line.lstrip().startswith("|") else "text"
        if not line.strip():
            kind = "blank"
        elif kind == "text" and line.startswith("# ") and not blocks:
            continue  # the title
        if blocks and blocks[-1][0] == kind:
            blocks[-1][1].append(line)
        else:
            blocks.append((kind, [line]))
    return [(kind, lines) for kind, lines in blocks if kind != "blank"]


def parse_table(rows: list[str]) -> tuple[list[str], list[list[str]]]:
    """Header and body cells of a pipe table (the ``|---|`` separator row is dropped)."""
    cells = [[cell.strip() for cell in row.strip().strip("|").split("|")] for row in rows]
    header, body = cells[0], [row for row in cells[1:] if not _is_separator(row)]
    width = len(header)
    for row in body:
        if len(row) != width:
            raise ValueError(f"table row has {len(row)} cells, the header {width}: {row}")
    return header, body


def _is_separator(row: list[str]) -> bool:
    return all(re.fullmatch(r":?-{3,}:?", cell) for cell in row)


def markdown_to_rest(line: str) -> str:
    return _CODE_SPAN.sub(r"``\1``", line)


class BenchmarkResults(SphinxDirective):
    required_arguments = 1
    option_spec = {"no-csv": directives.flag}

    def run(self) -> list[nodes.Node]:
        relative = self.arguments[0]
        source_dir = Path(self.env.srcdir, self.env.docname).parent
        path = (source_dir / relative).resolve()
        self.env.note_dependency(str(path))
        result: list[nodes.Node] = []
        for kind, lines in split_blocks(path.read_text(encoding="utf-8")):
            if kind == "table":
                result.append(self._table(*parse_table(lines)))
            else:
                result.extend(self._prose([markdown_to_rest(line) for line in lines]))
        csv = path.with_suffix(".csv")
        if csv.exists() and "no-csv" not in self.options:
            link = str(Path(relative).with_suffix(".csv"))
            result.extend(
                self._prose([f"Raw results, one row per run: :download:`{csv.name} <{link}>`."])
            )
        return result

    def _prose(self, lines: list[str]) -> list[nodes.Node]:
        container = nodes.container()
        self.state.nested_parse(
            StringList(lines, self.arguments[0]), self.content_offset, container
        )
        return list(container.children)

    def _table(self, header: list[str], body: list[list[str]]) -> nodes.table:
        table = nodes.table(classes=["benchmark-table"])
        group = nodes.tgroup(cols=len(header))
        table += group
        for _ in header:
            group += nodes.colspec(colwidth=1)
        head, tbody = nodes.thead(), nodes.tbody()
        group += head
        group += tbody
        head += self._row(header)
        for cells in body:
            tbody += self._row(cells)
        return table

    def _row(self, cells: list[str]) -> nodes.row:
        row = nodes.row()
        for cell in cells:
            entry = nodes.entry()
            if cell:
                text_nodes, messages = self.state.inline_text(markdown_to_rest(cell), self.lineno)
                entry += nodes.paragraph("", "", *text_nodes)
                entry += messages
            row += entry
        return row


def setup(app):
    app.add_directive("benchmark-results", BenchmarkResults)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
