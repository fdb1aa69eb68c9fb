// assay:capture-module v1 -- written by `assay patch`; `assay patch --undo` removes it.
//
// The ES-module entry of assay's capture module (assay_capture.cjs holds
// the code): it also patches the ESM builds of the installed SDKs, which
// are separate copies from the CommonJS builds require() returns. Importing
// it first thing in the entrypoint is enough; top-level await makes the
// patch complete before the program's own code runs.
import capture from './assay_capture.cjs';

for (const name of capture.SDKS) {
  try {
    capture.patchModule(name, await import(name));
  } catch {}
}
