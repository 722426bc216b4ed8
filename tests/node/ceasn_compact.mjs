// The JSON-LD step of CASS's CTDL-ASN export (ceasn.js: `jsonLdCompact(c.toJson(), ctx)`), with the
// real jsonld library CASS uses (a dependency of npm cassproject, pinned in package.json).
//
// usage: node ceasn_compact.mjs INPUT.json
//   INPUT = {"cass": <cass2ceasn.json @context>, "ctdl": <CTDL-ASN @context>, "objects": [CASS object, ...]}
// Each object is read with CASS's own context (as the export sets `context` to cass2ceasn.json) and
// compacted against the CTDL-ASN context. Nothing is fetched: both contexts come in the input.
// Prints JSON: the compacted objects, without their @context.
import { readFileSync } from "node:fs";
import jsonld from "jsonld";

const input = JSON.parse(readFileSync(process.argv[2], "utf-8"));
const documentLoader = async (url) => {
  throw new Error(`no network: ${url}`);
};
const out = [];
for (const object of input.objects) {
  const compacted = await jsonld.compact({ ...object, "@context": input.cass }, input.ctdl, { documentLoader });
  delete compacted["@context"];
  out.push(compacted);
}
process.stdout.write(JSON.stringify(out));
