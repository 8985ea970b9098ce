// Reads Kubernetes resources, one JSON document a line, from stdin; prints one JSON line per
// resource: its kind and name and the schema errors found (none: valid). The schemas are those of
// the kubernetes-models packages, made from Kubernetes' OpenAPI and the CRDs of Strimzi and KEDA.
import { createInterface } from "node:readline";

const PACKAGES = {
  "kafka.strimzi.io": "@kubernetes-models/strimzi-kafka-operator",
  "keda.sh": "@kubernetes-models/keda",
};

async function modelOf(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  const path = PACKAGES[group]
    ? `${PACKAGES[group]}/${group}/${version}/${kind}`
    : `kubernetes-models/${group ? `${group}/` : ""}${version}/${kind}`;
  const module = await import(path);
  return module[kind];
}

async function check(resource) {
  const found = { kind: resource.kind, name: resource.metadata?.name ?? null, errors: [] };
  let Model;
  try {
    Model = await modelOf(resource.apiVersion, resource.kind);
  } catch {
    found.errors.push(`no schema for ${resource.apiVersion} ${resource.kind}`);
    return found;
  }
  try {
    new Model(resource).validate();
  } catch (error) {
    found.errors.push(error.message);
  }
  return found;
}

for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim()) {
    process.stdout.write(JSON.stringify(await check(JSON.parse(line))) + "\n");
  }
}
