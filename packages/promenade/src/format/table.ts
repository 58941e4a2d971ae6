/**
 * Aligned text tables for `runs` and `workflows`: a header row, columns padded to their widest
 * cell (measured without colour codes), the last column left unpadded. No borders, so the output
 * stays greppable and pastes cleanly.
 */
import { stripAnsi } from "./color.ts";

/** Render `rows` under `headers`, two spaces between columns, one line each, newline-terminated. */
export function renderTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const widths = headers.map((header, column) =>
    Math.max(stripAnsi(header).length, ...rows.map((row) => stripAnsi(row[column] ?? "").length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) =>
        column === cells.length - 1
          ? cell
          : cell + " ".repeat((widths[column] ?? 0) - stripAnsi(cell).length),
      )
      .join("  ")
      .trimEnd();
  return `${[line(headers), ...rows.map(line)].join("\n")}\n`;
}
