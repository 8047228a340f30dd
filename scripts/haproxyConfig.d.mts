/** The types of haproxyConfig.mjs, for the tests. */
export declare const haproxyConfig: (port: number, backends: ReadonlyArray<number>) => string
