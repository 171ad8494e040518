import { parseNameAddr, uriUser, type HeaderList, type SipMessage } from '../sip/index.js';
import type { Authenticator } from './authenticator.js';
import type { Binding, BindingStore } from './bindings.js';
import type { RequestContext } from './context.js';

export interface RegistrarConfig {
  defaultExpires: number;
  minExpires: number;
  maxExpires: number;
}

export const DEFAULT_REGISTRAR: RegistrarConfig = { defaultExpires: 3600, minExpires: 60, maxExpires: 7200 };

interface ContactUpdate {
  uri: string;
  expires: number;
  q: number;
}

/**
 * A registrar (RFC 3261 §10.3): challenges with 401, then adds, refreshes and removes bindings,
 * enforcing Min-Expires (423), `Contact: *` with Expires 0, and the Call-ID/CSeq ordering rules;
 * the 200 OK lists every current binding.
 */
export class Registrar {
  constructor(
    private readonly auth: Authenticator,
    private readonly store: BindingStore,
    private readonly cfg: RegistrarConfig,
    private readonly now: () => number,
  ) {}

  handle(ctx: RequestContext): void {
    const msg = ctx.msg;
    const to = msg.to;
    const user = to ? uriUser(to.uri) ?? '' : '';
    if (!user) return void ctx.reply(400, { reason: 'Bad Request (no user in To)' });
    // Step 3 (§10.3): authenticate; credentials must be the To user's (no registering for others).
    const verdict = this.auth.check(msg, false, ctx.peer.ip, user);
    if (!verdict.ok) {
      ctx.note(verdict.why);
      return void ctx.reply(verdict.status, { headers: verdict.headers });
    }
    const updates = this.contacts(msg);
    if (updates === 'bad') return void ctx.reply(400, { reason: 'Bad Request (Contact: * needs Expires: 0 and no other Contact)' });
    const callId = msg.callId ?? '';
    const cseq = msg.cseq?.seq ?? 0;
    let list = this.store.get(user);
    if (updates === 'all') {
      // Step 6: "*" removes every binding, unless an existing one has this Call-ID and a CSeq not lower.
      if (list.some((b) => b.callId === callId && b.cseq >= cseq)) return void ctx.reply(500, { reason: 'Server Internal Error (out of order REGISTER)' });
      this.store.set(user, []);
      return void ctx.reply(200, { headers: [['Date', new Date(this.now()).toUTCString()]] });
    }
    const brief = updates.find((u) => u.expires > 0 && u.expires < this.cfg.minExpires);
    if (brief) return void ctx.reply(423, { headers: [['Min-Expires', String(this.cfg.minExpires)]] });
    for (const u of updates) {
      const existing = list.find((b) => b.contact === u.uri);
      // Step 7: same Call-ID with a CSeq not higher is an out-of-order or replayed request.
      if (existing && existing.callId === callId && existing.cseq >= cseq) return void ctx.reply(500, { reason: 'Server Internal Error (out of order REGISTER)' });
      list = list.filter((b) => b.contact !== u.uri);
      if (u.expires > 0) {
        const b: Binding = { contact: u.uri, expiresAt: this.now() + Math.min(u.expires, this.cfg.maxExpires) * 1000, q: u.q, callId, cseq, source: ctx.peer };
        list.push(b);
      }
    }
    if (updates.length) this.store.set(user, list);
    const current = this.store.get(user);
    const headers: HeaderList = current.map((b) => ['Contact', `<${b.contact}>;expires=${Math.max(0, Math.round((b.expiresAt - this.now()) / 1000))}${b.q !== 1 ? `;q=${b.q}` : ''}`]);
    headers.push(['Date', new Date(this.now()).toUTCString()]);
    ctx.note(`${user}: ${current.length} binding(s)`);
    ctx.reply(200, { headers });
  }

  /** The Contact updates of a REGISTER, 'all' for `Contact: *`, or 'bad'. */
  private contacts(msg: SipMessage): ContactUpdate[] | 'all' | 'bad' {
    const values = msg.values('contact');
    const headerExpires = msg.get('expires');
    const fallback = headerExpires !== undefined && /^\d+$/.test(headerExpires.trim()) ? Number(headerExpires) : this.cfg.defaultExpires;
    if (values.some((v) => v.trim() === '*')) {
      return values.length === 1 && fallback === 0 && headerExpires !== undefined ? 'all' : 'bad';
    }
    return values.map((v) => {
      const na = parseNameAddr(v);
      const e = na.params['expires'];
      const q = Number(na.params['q'] ?? '1');
      return { uri: na.uri, expires: e !== undefined && e !== null && /^\d+$/.test(e) ? Number(e) : fallback, q: Number.isFinite(q) ? q : 1 };
    });
  }
}
