/**
 * The `bash` built-in's refusal rule: a command may not redirect (`>`, `>>`, `<`, `<<`, `&>`,
 * `2>&1`…) nor use command substitution (`$(…)`, backticks) or process substitution (`<(…)`,
 * `>(…)`). Quotes are honoured: inside single quotes nothing is special; inside double quotes
 * `$(` and backticks still substitute, `<` and `>` are plain text. A backslash escapes the next
 * character outside single quotes.
 */

/** Why `command` is refused, or `null` when it may run. */
export function refusedShellSyntax(command: string): string | null {
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < command.length; i++) {
    const c = command[i]!;
    if (quote === "'") {
      if (c === "'") quote = null;
      continue;
    }
    if (c === "\\") {
      i++;
      continue;
    }
    if (c === "`") return "command substitution (backticks)";
    if (c === "$" && command[i + 1] === "(") {
      // `$((…))` is arithmetic, not a substitution.
      if (command[i + 2] !== "(") return "command substitution ($(...))";
      i += 2;
      continue;
    }
    if (quote === '"') {
      if (c === '"') quote = null;
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      continue;
    }
    if ((c === "<" || c === ">") && command[i + 1] === "(") return "process substitution";
    if (c === "<" || c === ">") return "redirection";
  }
  return null;
}
