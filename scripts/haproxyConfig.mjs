/**
 * HAProxy in front of the service's instances as it is mostly left: round robin, no stickiness,
 * health checks on `/cache-healthcheck`, nothing tuned for the service. Connection failures are
 * retried (HAProxy's default `retry-on conn-failure`, `retries 3`) on another instance
 * (`option redispatch`); a 503 from an instance is passed on as it is. Health checks every second,
 * an instance out after two failed ones and back after two good ones (`fall 2`, `rise 2`). The
 * timeouts are those of Debian's own haproxy.cfg. Used by `npm run fleet` and the deploy drills.
 *
 * @param {number} port where HAProxy listens, on 127.0.0.1
 * @param {ReadonlyArray<number>} backends the instances' ports, on 127.0.0.1
 */
export const haproxyConfig = (port, backends) =>
  [
    "global",
    // Two descriptors a connection, under the 20,000 open files this machine allows.
    "  maxconn 8000",
    "defaults",
    "  mode http",
    "  timeout connect 5s",
    "  timeout client 50s",
    "  timeout server 50s",
    "  retries 3",
    "  option redispatch",
    "frontend integers",
    `  bind 127.0.0.1:${port}`,
    "  default_backend forge",
    "backend forge",
    "  balance roundrobin",
    "  option httpchk GET /cache-healthcheck",
    ...backends.map((backend, i) => `  server forge${i + 1} 127.0.0.1:${backend} check inter 1s fall 2`),
    ""
  ].join("\n")
