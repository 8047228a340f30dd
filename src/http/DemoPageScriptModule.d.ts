/** The demo page's script, bundled for browsers by scripts/demoPageScript.mjs (esbuild) or Vite. */
declare module "integer-forge:demo-page-script" {
  const script: string
  export default script
}
