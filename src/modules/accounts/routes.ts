import { z } from 'zod';
import type { Config } from '../../config.ts';
import { idParams } from '../../lib/schemas.ts';
import { noContent } from '../../server/contracts.ts';
import { authOf, type HavenApp, originOf } from '../../server/http.ts';
import { meSchema } from '../auth/routes.ts';
import type { AuthService, ClientInfo } from '../auth/service.ts';
import { setSessionCookie, signedInAnswer } from '../auth/sign-in.ts';
import { invitationSchema } from '../users/routes.ts';
import type { AccountService } from './service.ts';

/** The answer of a sign-in, as `POST /auth/login` gives it. */
export const signedInSchema = z.object({
  token: z.string(),
  csrfToken: z.string(),
  expiresAt: z.string(),
  user: meSchema,
  mfaEnrolmentRequired: z.boolean(),
});

const linkToken = z.string().trim().min(1).max(512);
const newPassword = z.string().max(256);

/** Said to everyone who asks for a reset, whether or not an account uses the email. */
const RESET_ANSWER =
  'If an account uses this email, a link to choose a new password is on its way. It works once, within one hour.';
// Whether the installation sends email is the same for every address: saying so tells nothing.
const RESET_ANSWER_EMAIL_OFF =
  'This installation cannot send email yet (HAVEN_SMTP_URL is not set): ask your Haven administrator.';

export function accountRoutes(
  app: HavenApp,
  accounts: AccountService,
  auth: AuthService,
  config: Config,
) {
  const clientOf = (request: {
    ip: string;
    id: string;
    headers: Record<string, unknown>;
  }): ClientInfo => ({
    ip: request.ip,
    userAgent: (request.headers['user-agent'] as string | undefined) ?? null,
    requestId: request.id,
  });

  app.post('/api/v1/users/:id/invitation', {
    config: { access: { permission: 'users.manage' } },
    schema: {
      tags: ['users'],
      summary: 'Send a user a new invitation (Admin); the link of the earlier one stops working',
      description:
        'For a user who has never set a password nor signed in: queues an email with a new single-use link, valid 7 days. 409 `already_active` once they have signed in or set a password (they reset it from the sign-in page instead), 409 `account_disabled` for a disabled user, 409 `email_off` when Haven sends no email (`HAVEN_SMTP_URL` unset). Refused like editing the user when the caller could not have granted every role they hold.',
      params: idParams,
      response: {
        202: invitationSchema.extend({
          /** The invitation went to the outbox; the notification worker sends it. */
          delivery: z.literal('email'),
        }),
      },
    },
    handler: async (request, reply) => {
      const sent = await accounts.resendInvitation(
        authOf(request).principal,
        request.params.id,
        originOf(request),
      );
      return reply.code(202).send(sent);
    },
  });

  app.post('/api/v1/auth/accept-invitation', {
    config: { access: { public: true } },
    schema: {
      tags: ['auth'],
      summary: 'Accept an invitation: choose a password and sign in',
      description:
        'With the `token` of the link in the invitation email (`/accept-invitation?token=…`) and a new `password` (at least 12 characters, not easy to guess; else 400 `validation_failed` naming `password`, and the link still works). Answers as `POST /auth/login`: the session cookie, and `{ token, csrfToken, expiresAt, user, mfaEnrolmentRequired }`. A link that is unknown, already used, replaced by a newer invitation or past its 7 days answers 400 `invalid_token` and changes nothing; so does one for an account that has signed in meanwhile. A disabled account: 403 `account_disabled`. Someone who holds no role yet has their password set and is answered 403 `no_role`, as at sign-in; they sign in once given one.',
      body: z.object({ token: linkToken, password: newPassword }).strict(),
      response: { 200: signedInSchema },
    },
    handler: async (request, reply) => {
      const { session, principal } = await accounts.acceptInvitation(
        request.body,
        clientOf(request),
      );
      const user = await auth.me(principal, null);
      setSessionCookie(reply, request, config, session);
      return signedInAnswer(session, user);
    },
  });

  app.post('/api/v1/auth/password-reset', {
    config: { access: { public: true } },
    schema: {
      tags: ['auth'],
      summary: 'Ask for a password reset link by email',
      description:
        'Always 202 with the same answer, whether or not an account uses the email, so the answer tells nobody which addresses have accounts. Each account that may sign in with this email (one per organisation) is sent its own link, naming its organisation, valid one hour and once; a newer request replaces the link of an earlier one. At most 3 emails per account and hour: further requests are answered alike and dropped. Disabled accounts get nothing. Without email set up nothing is sent, and the answer says so (`emailOn: false`), the same for every address.',
      body: z.object({ email: z.string().trim().min(1).max(254) }).strict(),
      response: { 202: z.object({ message: z.string(), emailOn: z.boolean() }) },
    },
    handler: async (request, reply) => {
      const emailOn = await accounts.requestPasswordReset(request.body.email, clientOf(request));
      return reply
        .code(202)
        .send({ message: emailOn ? RESET_ANSWER : RESET_ANSWER_EMAIL_OFF, emailOn });
    },
  });

  app.post('/api/v1/auth/password-reset/confirm', {
    config: { access: { public: true } },
    schema: {
      tags: ['auth'],
      summary: 'Choose a new password with a reset link; every session of the account ends',
      description:
        'With the `token` of the link in the reset email (`/reset-password?token=…`) and a new `password` (the usual strength rules; a weak one answers 400 `validation_failed` and the link still works). 204: the password is set, every session of the account ends (sign in again), and any other invitation or reset link of theirs stops working. A link that is unknown, already used, replaced or past its hour answers 400 `invalid_token` and changes nothing; a disabled account 403 `account_disabled`. Two-factor sign-in, if on, stays on.',
      body: z.object({ token: linkToken, password: newPassword }).strict(),
      response: { 204: noContent },
    },
    handler: async (request, reply) => {
      await accounts.confirmPasswordReset(request.body, clientOf(request));
      return reply.code(204).send();
    },
  });
}
