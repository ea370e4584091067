import { generate } from 'otplib';
import { AuthService } from '../../src/modules/auth/service.ts';
import { type TestHaven, useHavenWith } from './haven.ts';

/** The time TOTP codes are checked against, moved by the test (the process clock is left alone). */
export class TotpClock {
  constructor(public ms = Date.parse('2030-01-01T00:00:10Z')) {}

  /** Moves on one 30-second time step (or `seconds`), so a fresh code can be made. */
  advance(seconds = 30): this {
    this.ms += seconds * 1000;
    return this;
  }

  /** The authenticator app's code for `secret` at this time. */
  code(secret: string): Promise<string> {
    return generate({ secret, epoch: Math.floor(this.ms / 1000) });
  }
}

/** A fresh Haven for each test whose TOTP checks read `clock` instead of the time of day. */
export function useHavenWithTotpClock(overrides: Record<string, string> = {}) {
  const clock = new TotpClock();
  const haven = useHavenWith((services, config, database) => {
    clock.ms = Date.parse('2030-01-01T00:00:10Z');
    services.auth = new AuthService(database, config, { clock: () => clock.ms });
  }, overrides);
  return { haven, clock };
}

/** Turns two-factor sign-in on for the owner of `token`; answers the secret and recovery codes. */
export async function enrolTotp(h: TestHaven, token: string, clock: TotpClock) {
  const started = await h.post('/api/v1/me/totp', token);
  if (started.status !== 200) throw new Error(`enrol failed: ${JSON.stringify(started.body)}`);
  const secret: string = started.body.secret;
  const confirmed = await h.post('/api/v1/me/totp/confirm', token, {
    code: await clock.code(secret),
  });
  if (confirmed.status !== 200)
    throw new Error(`confirm failed: ${JSON.stringify(confirmed.body)}`);
  return { secret, recoveryCodes: confirmed.body.recoveryCodes as string[] };
}

/** Passes a step-up in the session of `token` with a fresh code (the clock moves on a step). */
export async function stepUp(h: TestHaven, token: string, secret: string, clock: TotpClock) {
  const reply = await h.post('/api/v1/auth/step-up', token, {
    code: await clock.advance().code(secret),
  });
  if (reply.status !== 200) throw new Error(`step-up failed: ${JSON.stringify(reply.body)}`);
  return reply.body.mfaAt as string;
}
