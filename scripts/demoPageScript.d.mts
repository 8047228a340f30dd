/** The types of demoPageScript.mjs, for vitest.config.ts and the tests. */
export declare const demoPageScriptModule: string
export declare const buildDemoPageScript: () => Promise<string>
export declare const demoPageScriptSource: () => Promise<string>
