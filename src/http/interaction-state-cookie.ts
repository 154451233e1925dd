import type { Context } from 'koa';

const DEFAULT_TTL_MS = 15 * 60 * 1000;

/** What every state carried through an interaction's pages holds: whose interaction, and until when. */
export interface InteractionState {
  uid: string;
  /** Epoch ms after which the state is void. */
  expiresAt: number;
}

/**
 * A sign-in's state carried between the pages of one interaction (a passed first factor waiting
 * for the second, a chosen organization). Signed with the cookie keys, HttpOnly, scoped to the
 * interaction's path, and naming the interaction in its value: it is honoured only there, in this
 * browser (oidc-provider binds the interaction to it), until it expires. `read` turns the parsed
 * JSON back into the state's own fields, or refuses it (undefined).
 */
export class InteractionStateCookie<T extends InteractionState> {
  private readonly name: string;

  constructor(
    name: string,
    private readonly secure: boolean,
    private readonly read: (value: Record<string, unknown>) => Omit<T, keyof InteractionState> | undefined,
    private readonly ttlMs: number = DEFAULT_TTL_MS,
  ) {
    this.name = secure ? `__Secure-${name}` : name;
  }

  set(ctx: Context, state: Omit<T, 'expiresAt'>): void {
    const value = { ...state, expiresAt: Date.now() + this.ttlMs };
    ctx.cookies.set(
      this.name,
      Buffer.from(JSON.stringify(value)).toString('base64url'),
      this.options(state.uid, this.ttlMs),
    );
  }

  get(ctx: Context, uid: string): T | undefined {
    const raw = ctx.cookies.get(this.name, { signed: true });
    if (!raw) return undefined;
    try {
      const value = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Record<string, unknown>;
      if (value['uid'] !== uid) return undefined;
      const expiresAt = value['expiresAt'];
      if (typeof expiresAt !== 'number' || expiresAt < Date.now()) return undefined;
      const fields = this.read(value);
      return fields ? ({ ...fields, uid, expiresAt } as T) : undefined;
    } catch {
      return undefined;
    }
  }

  clear(ctx: Context, uid: string): void {
    if (ctx.cookies.get(this.name, { signed: true })) ctx.cookies.set(this.name, '', this.options(uid, 0));
  }

  private options(uid: string, maxAge: number) {
    return {
      signed: true,
      httpOnly: true,
      sameSite: 'lax' as const,
      secure: this.secure,
      path: `/interaction/${uid}`,
      maxAge,
      overwrite: true,
    };
  }
}
