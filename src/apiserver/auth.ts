// Bearer-token authentication from <dataDir>/tokens.csv (kube-apiserver's static token file format:
// token,user,uid,"group1,group2"); an admin token is generated at first start.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export interface UserInfo {
  name: string;
  uid: string;
  groups: string[];
}

export class TokenAuthenticator {
  private readonly tokens = new Map<string, UserInfo>();
  /** Authorization headers already accepted, exactly as sent: a client repeats the same one on every request. */
  private readonly accepted = new Map<string, UserInfo>();

  constructor(entries: [string, UserInfo][]) {
    for (const [t, u] of entries) this.tokens.set(t, u);
  }

  /** The user for an Authorization header, or undefined. */
  authenticate(header: string | undefined): UserInfo | undefined {
    if (!header) return undefined;
    const known = this.accepted.get(header);
    if (known) return known;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) return undefined;
    const given = Buffer.from(m[1]!);
    for (const [t, u] of this.tokens) {
      const want = Buffer.from(t);
      if (want.length === given.length && timingSafeEqual(want, given)) {
        // Bounded: only headers carrying a valid token get here, and a few spellings of each are all clients use.
        if (this.accepted.size < 256) this.accepted.set(header, u);
        return u;
      }
    }
    return undefined;
  }
}

function parseLine(line: string): [string, UserInfo] | undefined {
  const fields: string[] = [];
  let cur = '';
  let quoted = false;
  for (const c of line) {
    if (c === '"') quoted = !quoted;
    else if (c === ',' && !quoted) {
      fields.push(cur);
      cur = '';
    } else cur += c;
  }
  fields.push(cur);
  const [token, name, uid, groups] = fields.map((f) => f.trim());
  if (!token || !name) return undefined;
  return [
    token,
    {
      name,
      uid: uid ?? name,
      groups: groups
        ? groups
            .split(',')
            .map((g) => g.trim())
            .filter(Boolean)
        : [],
    },
  ];
}

/** Reads (or creates, with a fresh admin token) the tokens file; returns the authenticator and the admin token. */
export function loadTokens(dataDir: string): { auth: TokenAuthenticator; adminToken: string; file: string } {
  const file = join(dataDir, 'tokens.csv');
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    const token = randomBytes(24).toString('hex');
    writeFileSync(file, `${token},admin,admin,"system:masters"\n`, { mode: 0o600 });
  }
  const entries = readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map(parseLine)
    .filter((e): e is [string, UserInfo] => !!e);
  const admin = entries.find(([, u]) => u.name === 'admin') ?? entries[0];
  if (!admin) throw new Error(`${file} has no tokens`);
  return { auth: new TokenAuthenticator(entries), adminToken: admin[0], file };
}
