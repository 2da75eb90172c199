// Where the link holder's API is (PROTOCOL.md §7.2): on the vault canister's raw domain,
// `<canister id>.raw.<domain>`, never on the viewer's own origin. Every answer on the viewer's
// origin is certified; the API's answers are not, and a node could put a script of its own in
// the place of one — on the viewer's origin that script could install a service worker that
// serves a trojan viewer for `/s` from then on. On another origin it can do no such thing.

/** A canister id as text: groups of five base32 letters, the last maybe shorter (`rwlgt-iiaaa-…-cai`). */
const CANISTER_ID = /^[a-z2-7]{5}(-[a-z2-7]{1,5})+$/;

/** The hosts of a local replica, whose `?canisterId=<id>` form has the raw domain `<id>.raw.localhost`. */
const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * The origin of the API for a viewer opened at `url`: `https://<id>.raw.icp0.io` for
 * `https://<id>.icp0.io/s`, `http://<id>.raw.localhost:4943` for `http://<id>.localhost:4943/s`
 * or `http://127.0.0.1:4943/s?canisterId=<id>`, the page's own origin on a raw domain (where
 * nothing is certified anyway); null for an address that names no canister.
 */
export function apiOrigin(url) {
  const u = new URL(url);
  const port = u.port ? `:${u.port}` : '';
  const [first, ...rest] = u.hostname.split('.');
  if (CANISTER_ID.test(first) && rest.length > 0) {
    return rest[0] === 'raw' ? u.origin : `${u.protocol}//${first}.raw.${rest.join('.')}${port}`;
  }
  const named = u.searchParams.get('canisterId');
  if (named && CANISTER_ID.test(named) && LOCAL_HOSTS.has(u.hostname)) {
    return `${u.protocol}//${named}.raw.localhost${port}`;
  }
  return null;
}
