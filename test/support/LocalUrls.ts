/** URLs of a server the tests started: every one listens on loopback, on a port of its own. */

export const httpUrl = (port: number, path: string) => `http://127.0.0.1:${port}${path}`

export const wsUrl = (port: number, path: string) => `ws://127.0.0.1:${port}${path}`
