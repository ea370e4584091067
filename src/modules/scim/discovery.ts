import SCIMMY from 'scimmy';
import { listResponse, MAX_RESULTS, schemaIds, scimError } from './protocol.ts';

/**
 * RFC 7644 section 4: what Haven's SCIM service offers, described with SCIMMY's own schema
 * definitions (the same ones that check what clients send).
 */

/** SCIMMY's resources carry a `toJSON`; Haven answers plain JSON. */
const plain = <T>(value: T): Record<string, unknown> => JSON.parse(JSON.stringify(value));

export function serviceProviderConfig(base: string) {
  return plain(
    new SCIMMY.Schemas.ServiceProviderConfig(
      {
        patch: { supported: true },
        bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
        filter: { supported: true, maxResults: MAX_RESULTS },
        changePassword: { supported: false },
        sort: { supported: false },
        etag: { supported: false },
        authenticationSchemes: [
          {
            type: 'oauthbearertoken',
            name: 'Bearer token',
            description:
              "A SCIM token an Owner creates in Haven (Organisation settings), sent as 'Authorization: Bearer <token>'.",
          },
        ],
      } as never,
      `${base}/ServiceProviderConfig`,
    ),
  );
}

const resourceTypes = [
  {
    id: 'User',
    name: 'User',
    endpoint: '/Users',
    description: "Haven's staff accounts of the organisation",
    schema: schemaIds.user,
    // Accepted as Entra ID and Google send it; Haven keeps none of it.
    schemaExtensions: [{ schema: schemaIds.enterpriseUser, required: false }],
  },
  {
    id: 'Group',
    name: 'Group',
    endpoint: '/Groups',
    description: "Haven's user groups (not the ones Haven makes itself)",
    schema: schemaIds.group,
  },
];

export function listResourceTypes(base: string) {
  const items = resourceTypes.map((type) => resourceType(base, type.id));
  return listResponse(items, items.length, 0);
}

export function resourceType(base: string, id: string) {
  const type = resourceTypes.find((t) => t.id === id);
  if (!type) throw scimError(404, undefined, `Resource type ${id} not found`);
  return plain(new SCIMMY.Schemas.ResourceType(type as never, `${base}/ResourceTypes`));
}

const definitions = [
  SCIMMY.Schemas.User.definition,
  SCIMMY.Schemas.Group.definition,
  SCIMMY.Schemas.EnterpriseUser.definition,
];

export function listSchemas(base: string) {
  const items = definitions.map((d) => plain(d.describe(`${base}/Schemas`)));
  return listResponse(items, items.length, 0);
}

export function schema(base: string, id: string) {
  const definition = definitions.find((d) => d.id === id);
  if (!definition) throw scimError(404, undefined, `Schema ${id} not found`);
  return plain(definition.describe(`${base}/Schemas`));
}
