// Validate an AsyncAPI document with the official parser (@asyncapi/parser, pinned in package-lock.json).
//
// usage: node validate.mjs FILE
// Prints every diagnostic as "file:line:column severity code: message"; exits 1 when the document
// does not parse or any diagnostic is an error or a warning (a contract we publish has none), 2 on usage.
import { readFileSync } from "node:fs";
import { Parser } from "@asyncapi/parser";

const SEVERITY = ["error", "warning", "info", "hint"];
const file = process.argv[2];
if (!file) {
  console.error("usage: node validate.mjs FILE");
  process.exit(2);
}
const parser = new Parser();
const { document, diagnostics } = await parser.parse(readFileSync(file, "utf8"), { source: file });
let failures = 0;
for (const d of diagnostics) {
  const start = d.range?.start ?? { line: 0, character: 0 };
  const severity = SEVERITY[d.severity] ?? String(d.severity);
  if (d.severity <= 1) failures += 1;
  console.log(`${file}:${start.line + 1}:${start.character + 1} ${severity} ${d.code}: ${d.message} (${(d.path ?? []).join(".")})`);
}
if (document === undefined || failures > 0) {
  console.error(`${file}: not a valid AsyncAPI document (${failures} errors or warnings)`);
  process.exit(1);
}
const version = document.version();
const channels = document.channels().length;
const operations = document.operations().length;
console.log(`${file}: valid AsyncAPI ${version}: ${channels} channels, ${operations} operations`);
