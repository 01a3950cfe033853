// Validates every document of the YAML files named on the command line against the JSON schema of its
// apiVersion and kind, as generated from the Kubernetes OpenAPI spec by kubernetes-models. Prints one line per
// document, "ok FILE KIND/NAME" or "invalid FILE KIND/NAME: REASON", and exits 1 if any document is invalid.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

if (process.argv.length < 3) {
  console.error("usage: node validate-manifests.mjs FILE.yaml...");
  process.exit(2);
}

let invalid = 0;
for (const file of process.argv.slice(2)) {
  // YAML 1.1, as kubectl reads manifests (0440 is octal there, and yes/no are booleans).
  for (const document of parseAllDocuments(readFileSync(file, "utf8"), { version: "1.1" })) {
    if (document.errors.length > 0) {
      report(file, "?", document.errors.map((e) => e.message).join("; "));
      continue;
    }
    const manifest = document.toJS();
    if (manifest === null || manifest === undefined)
      continue; // an empty document, e.g. after a trailing ---
    const what = `${manifest.kind ?? "?"}/${manifest.metadata?.name ?? "?"}`;
    const reason = await validate(manifest);
    if (reason === null)
      console.log(`ok ${file} ${what}`);
    else
      report(file, what, reason);
  }
}
process.exit(invalid === 0 ? 0 : 1);

function report(file, what, reason) {
  invalid++;
  console.log(`invalid ${file} ${what}: ${reason}`);
}

async function validate(manifest) {
  const { apiVersion, kind } = manifest;
  if (typeof apiVersion !== "string" || typeof kind !== "string")
    return "apiVersion and kind must be strings";
  let models;
  try {
    // "apps/v1" is kubernetes-models/apps/v1; the core group's "v1" is kubernetes-models/v1.
    models = await import(`kubernetes-models/${apiVersion}`);
  } catch {
    return `no Kubernetes API group/version ${apiVersion}`;
  }
  const Model = models[kind];
  if (typeof Model !== "function")
    return `no kind ${kind} in ${apiVersion}`;
  try {
    new Model(manifest).validate();
    return null;
  } catch (e) {
    return String(e.message ?? e).replaceAll("\n", "; ");
  }
}
