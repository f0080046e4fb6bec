import { hostname } from 'node:os';

/**
 * Where the other instances reach this one when INSTANCE_URL is not set: the address it listens on,
 * or, listening on every interface, its host name (a container's name on a compose or Kubernetes network).
 */
export function advertisedAddress(host: string, port: number): string {
  const name = host === '0.0.0.0' || host === '::' ? hostname() : host;
  return `http://${name.includes(':') ? `[${name}]` : name}:${port}`;
}
