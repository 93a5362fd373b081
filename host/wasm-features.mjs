// The only post-MVP Wasm features the module may use (DESIGN.md: MVP + mutable-globals +
// sign-extension + non-trapping float-to-int), as wabt feature flags. Shared by host/build.mjs and
// test/helpers/wasm-check.ts so the build and the checks can never disagree.
export const ALLOWED_FEATURES = Object.freeze({
  mutable_globals: true,
  sign_extension: true,
  sat_float_to_int: true,
  bulk_memory: false,
  simd: false,
  reference_types: false,
  multi_value: false,
  tail_call: false,
  threads: false,
  exceptions: false,
  memory64: false,
  multi_memory: false,
  extended_const: false,
  relaxed_simd: false,
  function_references: false,
  gc: false,
  annotations: false,
  code_metadata: false,
});
