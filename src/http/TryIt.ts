/**
 * Commands that show the integers of the service at `host` (`name:port`), first what works right
 * after `npm install`: curl, as Server-Sent Events; wscat, one of this project's development
 * dependencies (elsewhere `npx` downloads it); websocat, which neither npm nor Debian provides.
 * The start log, the text `GET /` gives curl and the demo page's footer all name these.
 */
export const tryItCommands = (host: string): ReadonlyArray<string> => [
  `curl -N -H 'Accept: text/event-stream' http://${host}/_ws/`,
  `npx wscat -c ws://${host}/_ws/`,
  `websocat ws://${host}/_ws/`
]
