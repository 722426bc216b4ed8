// Interoperability check with the real CASS client library (npm cassproject, pinned in package.json).
//
// usage: node verify.mjs INPUT.json
//   INPUT = {"sheets": [signatureSheet JSON string, ...], "objects": [CASS object, ...]}
// Prints JSON: for every sheet entry, the text CASS verifies and whether the library's own crypto
// accepts each signature (the server's kbac.js steps); for every object, what the library's
// EcFramework / EcCompetency / EcAlignment classes read from it.
import { readFileSync } from "node:fs";
import "cassproject";

const input = JSON.parse(readFileSync(process.argv[2], "utf-8"));

// CASS kbac.js signatureSheetEach, minus the clock: copyFrom, owner -> @owner, drop signatures, toJson.
async function verifyEntry(entry) {
  const signature = new EbacSignature();
  signature.copyFrom(entry);
  const owner = signature.owner || signature["@owner"];
  signature["@owner"] = owner;
  delete signature.owner;
  const pk = EcPk.fromPem(owner);
  const sha1 = signature.signature || signature["@signature"];
  const sha256 = signature.signatureSha256 || signature["@signatureSha256"];
  signature.signature = signature["@signature"] = signature.signatureSha256 = signature["@signatureSha256"] = null;
  const canonical = signature.toJson();
  return {
    canonical,
    owner: pk.toPem(),
    sha256: sha256 == null ? null : await EcRsaOaepAsync.verifySha256(pk, canonical, sha256),
    sha1: sha1 == null ? null : await EcRsaOaepAsync.verify(pk, canonical, sha1),
  };
}

const CLASSES = { Framework: EcFramework, Competency: EcCompetency, Relation: EcAlignment };

function readObject(obj) {
  const type = String(obj["@type"]).split("/").pop();
  const Class = CLASSES[type];
  const thing = new Class();
  thing.copyFrom(obj);
  const out = {
    class: Class.name,
    id: thing.id,
    shortId: thing.shortId(),
    guid: thing.getGuid(),
    name: thing.getName ? thing.getName() : thing.name,
    description: thing.getDescription ? thing.getDescription() : thing.description,
    owner: (thing.owner || []).map((pem) => EcPk.fromPem(pem).toPem()),
    ownedByFirst: thing.owner && thing.owner.length ? thing.hasOwner(EcPk.fromPem(thing.owner[0])) : false,
  };
  if (Class === EcFramework) {
    out.competency = thing.competency || [];
    out.relation = thing.relation || [];
  }
  if (Class === EcAlignment) {
    out.source = thing.source;
    out.target = thing.target;
    out.relationType = thing.relationType;
  }
  return out;
}

const sheets = [];
for (const sheet of input.sheets || []) {
  const entries = JSON.parse(sheet);
  sheets.push(await Promise.all(entries.map(verifyEntry)));
}
const objects = (input.objects || []).map(readObject);
process.stdout.write(JSON.stringify({ library: "cassproject", sheets, objects }) + "\n");
process.exit(0);
