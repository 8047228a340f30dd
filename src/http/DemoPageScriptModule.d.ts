/**
 * The demo page's script as the build bundles it for browsers (scripts/demoPageScript.mjs): esbuild
 * resolves this module for dist/main.cjs, Vite for the tests.
 */
declare module "integer-forge:demo-page-script" {
  const script: string
  export default script
}
