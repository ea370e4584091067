import fastifyCookie from '@fastify/cookie';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify from 'fastify';
import {
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import helmet from 'helmet';
import pino, { type DestinationStream } from 'pino';
import { z } from 'zod';
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import { notFound } from '../lib/errors.ts';
import { accessRoutes } from '../modules/access/routes.ts';
import { AccessService } from '../modules/access/service.ts';
import { WideningPreviewService } from '../modules/access/widening.ts';
import { accessReviewRoutes } from '../modules/access-reviews/routes.ts';
import { AccessReviewService } from '../modules/access-reviews/service.ts';
import { Invitations } from '../modules/accounts/invitations.ts';
import { accountRoutes } from '../modules/accounts/routes.ts';
import { AccountService, handleResetRequests } from '../modules/accounts/service.ts';
import { withoutLinkToken } from '../modules/accounts/tokens.ts';
import { actionRoutes } from '../modules/actions/routes.ts';
import { ActionService } from '../modules/actions/service.ts';
import { auditRoutes } from '../modules/audit/routes.ts';
import { AuditService } from '../modules/audit/service.ts';
import { authRoutes } from '../modules/auth/routes.ts';
import { AuthService } from '../modules/auth/service.ts';
import { blockRoutes } from '../modules/blocks/routes.ts';
import { BlockService } from '../modules/blocks/service.ts';
import { complianceRoutes } from '../modules/compliance/routes.ts';
import { AccessAuditRunService } from '../modules/compliance/runs.ts';
import { deriveKey, loadSecretKey } from '../modules/documents/keys.ts';
import { documentRoutes } from '../modules/documents/routes.ts';
import { DocumentService } from '../modules/documents/service.ts';
import { openDocumentStorage } from '../modules/documents/storage.ts';
import { importRoutes } from '../modules/imports/routes.ts';
import { CategoryService, createDefaultCategories } from '../modules/incidents/categories.ts';
import { incidentRoutes } from '../modules/incidents/routes.ts';
import { IncidentService } from '../modules/incidents/service.ts';
import { directLinkRoutes } from '../modules/links/routes.ts';
import { DirectLinkService } from '../modules/links/service.ts';
import { smtpMailer } from '../modules/notifications/mailer.ts';
import { notificationRoutes } from '../modules/notifications/routes.ts';
import {
  createDefaultNotificationRules,
  NotificationService,
} from '../modules/notifications/service.ts';
import { NotificationWorker, type WorkerLog } from '../modules/notifications/worker.ts';
import { organisationRoutes } from '../modules/organisations/routes.ts';
import { OrganisationService } from '../modules/organisations/service.ts';
import { reportingRoutes } from '../modules/reporting/routes.ts';
import { ReportingService } from '../modules/reporting/service.ts';
import { retentionRoutes } from '../modules/retention/routes.ts';
import { RetentionService } from '../modules/retention/service.ts';
import { roleGrantRoutes } from '../modules/role-grants/routes.ts';
import { RoleGrantService } from '../modules/role-grants/service.ts';
import { safeguardingFileRoutes } from '../modules/safeguarding-file/routes.ts';
import { SafeguardingFileService } from '../modules/safeguarding-file/service.ts';
import { scimRoutes, scimTokenRoutes } from '../modules/scim/routes.ts';
import { ScimService } from '../modules/scim/service.ts';
import { ssoRoutes } from '../modules/sso/routes.ts';
import { SsoService } from '../modules/sso/service.ts';
import { studentGroupRoutes } from '../modules/student-groups/routes.ts';
import { StudentGroupService } from '../modules/student-groups/service.ts';
import { studentRoutes } from '../modules/students/routes.ts';
import { StudentService } from '../modules/students/service.ts';
import { HolidayService, holidayRoutes } from '../modules/transfers/holidays.ts';
import { transferRoutes } from '../modules/transfers/routes.ts';
import { TransferService } from '../modules/transfers/service.ts';
import { userGroupRoutes } from '../modules/user-groups/routes.ts';
import { createSchoolDefaults } from '../modules/user-groups/school-defaults.ts';
import { UserGroupService } from '../modules/user-groups/service.ts';
import { userRoutes, userTwoFactorRoutes } from '../modules/users/routes.ts';
import { UserService } from '../modules/users/service.ts';
import { registerAuthentication } from './authenticate.ts';
import { registerResponseContracts } from './contracts.ts';
import { registerControlCharacterGuard } from './control-characters.ts';
import { sendProblem, toHavenError } from './errors.ts';
import type { HavenApp } from './http.ts';
import {
  monitoringRoutes,
  OneLinePerRequest,
  registerMetrics,
  registerRequestIds,
  requestIdFor,
} from './monitoring.ts';
import { openApiTransform, openApiTransformObject } from './openapi.ts';
import { registerRateLimit } from './rate-limit.ts';
import { RefusalAudit } from './refusals.ts';
import { registerWebApp } from './web.ts';

export interface Services {
  organisations: OrganisationService;
  users: UserService;
  roleGrants: RoleGrantService;
  auth: AuthService;
  audit: AuditService;
  students: StudentService;
  studentGroups: StudentGroupService;
  userGroups: UserGroupService;
  directLinks: DirectLinkService;
  blocks: BlockService;
  access: AccessService;
  widening: WideningPreviewService;
  incidents: IncidentService;
  categories: CategoryService;
  actions: ActionService;
  documents: DocumentService;
  reporting: ReportingService;
  notifications: NotificationService;
  /** SCIM 2.0 provisioning: the Owners' tokens, and `/scim/v2`. */
  scim: ScimService;
  /** Single sign-on with OpenID Connect. */
  sso: SsoService;
  /** Invitations and password reset by email. */
  accounts: AccountService;
  /** Termly access reviews of user groups (issue 14). */
  accessReviews: AccessReviewService;
  /** Saved Access Audit Report runs (issue 14). */
  accessAuditRuns: AccessAuditRunService;
  /** The child's safeguarding file as the caller may see it (issue 16). */
  safeguardingFiles: SafeguardingFileService;
  /** Retention review and destruction (issue 16, item 4). */
  retention: RetentionService;
  transfers: TransferService;
  holidays: HolidayService;
  /** Sends what changes queue; started by `haven serve` (or `haven worker`), driven by tests. */
  worker: NotificationWorker;
}

/** The notification worker for these settings (not started); it logs JSON lines to `log`. */
export function createWorker(
  database: Database,
  config: Config,
  log: WorkerLog = pino({ level: config.logLevel, name: 'worker' }),
): NotificationWorker {
  const accountTokenKey = deriveKey(
    loadSecretKey({ secretKey: config.secretKey, dataDir: config.dataDir }),
    'account_tokens',
  );
  return new NotificationWorker(database, {
    mailer: config.mail.smtpUrl ? smtpMailer(config.mail.smtpUrl, config.mail.from) : null,
    mail: config.mail,
    pollMs: config.worker.pollMs,
    log,
    accountTokenKey,
    accountRequests: (now) => handleResetRequests(database, accountTokenKey, now),
  });
}

export function createServices(database: Database, config: Config): Services {
  const organisations = new OrganisationService(database);
  organisations.onSchoolCreated(createSchoolDefaults);
  organisations.onSchoolCreated(createDefaultCategories);
  organisations.onSchoolCreated(createDefaultNotificationRules);
  const incidents = new IncidentService(database, { mfaWindowMs: config.mfaWindowMs });
  const masterKey = loadSecretKey({ secretKey: config.secretKey, dataDir: config.dataDir });
  const records = { mfaWindowMs: config.mfaWindowMs };
  const userGroups = new UserGroupService(database);
  const roleGrants = new RoleGrantService(database);
  const blocks = new BlockService(database);
  const directLinks = new DirectLinkService(database);
  const accountTokenKey = deriveKey(masterKey, 'account_tokens');
  const documentStorage = openDocumentStorage({ dataDir: config.dataDir, masterKey });
  const services: Services = {
    incidents,
    documents: new DocumentService(
      database,
      documentStorage,
      incidents,
      config.documents.maxUploadBytes,
    ),
    categories: new CategoryService(database),
    notifications: new NotificationService(database),
    worker: createWorker(database, config),
    reporting: new ReportingService(database, records),
    accessAuditRuns: new AccessAuditRunService(database, config.reports),
    safeguardingFiles: new SafeguardingFileService(database, incidents),
    retention: new RetentionService(database, incidents, documentStorage),
    transfers: new TransferService(database, incidents, documentStorage),
    holidays: new HolidayService(database),
    actions: new ActionService(database, incidents),
    organisations,
    users: new UserService(database, config.login, new Invitations(accountTokenKey, config.mail)),
    accounts: new AccountService(database, config, accountTokenKey),
    sso: new SsoService(database, config, masterKey),
    roleGrants,
    auth: new AuthService(database, config),
    audit: new AuditService(database, records),
    students: new StudentService(database),
    studentGroups: new StudentGroupService(database),
    userGroups,
    scim: new ScimService(database, userGroups, config.mail.publicUrl),
    directLinks,
    blocks,
    access: new AccessService(database, records),
    widening: new WideningPreviewService(
      database,
      records,
      incidents,
      userGroups,
      roleGrants,
      blocks,
      directLinks,
    ),
    // Takes the Access Audit Report runs at a review's start and close.
    accessReviews: new AccessReviewService(database, () => services.accessAuditRuns),
  };
  return services;
}

export interface AppOptions {
  config: Config;
  database: Database;
  services?: Services;
  /** Where the server's JSON log lines go (default: standard output); tests read them. */
  logStream?: DestinationStream;
}

export async function buildApp({
  config,
  database,
  services,
  logStream,
}: AppOptions): Promise<HavenApp> {
  const app = Fastify({
    logger: {
      level: config.logLevel,
      ...(logStream ? { stream: logStream } : {}),
      redact: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
      // Fastify's own request fields, with the token of an account link's page blanked out.
      serializers: {
        req: (req) => ({
          method: req.method,
          url: withoutLinkToken(req.url),
          host: req.host,
          remoteAddress: req.ip,
          remotePort: req.socket?.remotePort,
        }),
      },
    },
    // A well-formed incoming X-Request-Id, else a new UUID (src/server/monitoring.ts); Fastify's
    // own requestIdHeader would take whatever the header holds, so it stays off.
    genReqId: requestIdFor,
    requestIdHeader: false,
    // One line per request, written when it is answered (src/server/monitoring.ts).
    logController: new OneLinePerRequest(),
    trustProxy: config.trustProxy,
    bodyLimit: 2 * 1024 * 1024,
  }).withTypeProvider<ZodTypeProvider>();
  const svc = services ?? createServices(database, config);

  registerRequestIds(app);
  // Counts every answer for /metrics (served with the monitoring routes), only where
  // HAVEN_METRICS_TOKEN is set.
  const metrics = registerMetrics(app, { token: config.metricsToken, database });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  // No upgrade-insecure-requests: Haven is often reached over plain HTTP on a school's own network
  // or localhost, where that directive would break every request. Put TLS in front in production.
  // Helmet's middleware is built once: @fastify/helmet builds it again for every request,
  // parsing the policy each time.
  const securityHeaders = helmet({
    contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } },
  });
  app.addHook('onRequest', (request, reply, done) =>
    securityHeaders(request.raw, reply.raw, (err?: unknown) => done(err as Error | undefined)),
  );
  await app.register(fastifyCookie);
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Haven API',
        description:
          'Safeguarding records for schools and trusts. Errors are application/problem+json with a stable `code`.',
        version: '1',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          cookie: { type: 'apiKey', in: 'cookie', name: 'haven_session' },
        },
      },
      security: [{ bearer: [] }, { cookie: [] }],
    },
    transform: openApiTransform,
    transformObject: openApiTransformObject,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/api/docs', staticCSP: true });
  // Before any route is added: it marks the public sign-in and set-up routes as they come.
  await registerRateLimit(app, config.rateLimit);

  // CSV imports arrive as text; each route sets its own size limit.
  app.addContentTypeParser(
    ['text/csv', 'text/plain'],
    { parseAs: 'string' },
    (_request, body, done) => {
      done(null, body);
    },
  );

  app.addHook('onSend', async (request, reply, payload) => {
    if (request.url.startsWith('/api/')) reply.header('cache-control', 'no-store');
    return payload;
  });

  const refusals = new RefusalAudit(database, {
    windowMs: config.refusals.windowMs,
    maxKeys: config.refusals.maxClients,
    onError: (err) => app.log.error({ err }, 'could not write refusals to the audit log'),
  });
  // Counts of refusals still open are written before the database closes.
  app.addHook('onClose', () => refusals.close());
  app.addHook('onClose', () => svc.worker.stop());

  app.setErrorHandler(async (error, request, reply) => {
    const problem = toHavenError(error as Error);
    if (problem.status >= 500) request.log.error({ err: error }, 'request failed');
    try {
      await refusals.record(request, problem);
    } catch (auditError) {
      request.log.error({ err: auditError }, 'could not write refusal to the audit log');
    }
    return sendProblem(reply, problem);
  });

  const sendPage = await registerWebApp(app, config.webDir);
  app.setNotFoundHandler(async (request, reply) => {
    if (sendPage(request, reply)) return reply;
    return sendProblem(reply, notFound(`${request.method} ${request.url.split('?')[0]}`));
  });

  registerAuthentication(app, database, config);
  registerControlCharacterGuard(app);
  // Every answer leaves through a declared schema: a route without one stops the app starting.
  registerResponseContracts(app, { mode: 'strict' });

  monitoringRoutes(
    app,
    { database, runsWorker: config.worker.enabled, worker: svc.worker },
    sendPage,
    metrics,
  );

  app.get('/api/v1/openapi.json', {
    config: { access: { public: true } },
    schema: { hide: true, response: { 200: z.record(z.string(), z.unknown()) } },
    handler: async () => ({ ...app.swagger() }),
  });

  organisationRoutes(app, svc.organisations);
  authRoutes(app, svc.auth, config);
  userRoutes(app, svc.users);
  userTwoFactorRoutes(app, svc.auth.twoFactor);
  roleGrantRoutes(app, svc.roleGrants);
  auditRoutes(app, svc.audit);
  studentRoutes(app, svc.students, database);
  importRoutes(app, database);
  studentGroupRoutes(app, svc.studentGroups);
  userGroupRoutes(app, svc.userGroups);
  directLinkRoutes(app, svc.directLinks);
  blockRoutes(app, svc.blocks);
  accessRoutes(app, svc.access, svc.widening);
  incidentRoutes(app, svc.incidents, svc.categories);
  actionRoutes(app, svc.actions);
  documentRoutes(app, svc.documents, config.documents.maxUploadBytes);
  notificationRoutes(app, svc.notifications);
  reportingRoutes(app, svc.reporting);
  accessReviewRoutes(app, svc.accessReviews);
  complianceRoutes(app, svc.accessAuditRuns);
  safeguardingFileRoutes(app, svc.safeguardingFiles);
  retentionRoutes(app, svc.retention);
  transferRoutes(app, svc.transfers);
  holidayRoutes(app, svc.holidays);
  scimTokenRoutes(app, svc.scim);
  await scimRoutes(app, svc.scim, { database, refusals });
  accountRoutes(app, svc.accounts, svc.auth, config);
  ssoRoutes(app, svc.sso, config);

  await app.ready();
  return app;
}
